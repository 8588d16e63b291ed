// Identity. Against a real hushd over loopback: nobody can choose the sender of a message,
// switch users on a logged-in connection, or log in with another user's device key or with a
// device proof made for another connection; look-alike usernames (case, fullwidth, Cyrillic,
// zero-width, bidi, digit skeletons) are refused; password guessing backs off with
// RATE_LIMITED + retryAfterMs, and unknown users get the same error, back-off and timing as
// wrong passwords.
import { DeviceIdentity, signDeviceLogin } from '@hush/crypto';
import type { ServerMessage } from '@hush/protocol';
import { startTestServer, type TestServer } from '@hush/server';
import { sharedServer } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { AppFixture, collect, nextEvent, passwordOf } from './helpers-app/fixture.js';
import { b64, type RawClient } from './helpers-app/raw-client.js';

const code = (m: ServerMessage): string => (m.type === 'error' || m.type === 'goodbye' ? m.code : m.type);

describe('identity: impersonation', () => {
  const fx = new AppFixture();
  // Raw clients speak clear text: the lobby is open here.
  const server = sharedServer(() => startTestServer({ openRooms: ['lobby'] }), fx);

  it("a client message carrying `from` (or another sender field) is refused and nobody sees it as someone else's", async () => {
    const bob = await fx.user(server, 'bob');
    const mallory = await fx.rawUser(server, 'mallory');
    const seen = collect(bob, 'message');
    const typing = collect(bob, 'typing');
    const attempts: Record<string, unknown>[] = [
      { type: 'send', room: 'lobby', text: 'from bob 1', from: 'bob' },
      { type: 'send', room: 'lobby', text: 'from bob 2', action: true, from: 'bob', user: 'bob' },
      { type: 'send', room: 'lobby', text: 'from bob 3', sender: 'bob' },
      { type: 'dm_send', to: 'bob', envelope: 'AAAA', from: 'bob' },
      { type: 'read', target: { room: 'lobby' }, msgId: '1', from: 'bob' },
      { type: 'presence_set', state: 'away', user: 'bob' },
      { type: 'room_topic', room: 'lobby', topic: 'set by bob', by: 'bob' },
    ];
    const replies: string[] = [];
    for (const a of attempts) replies.push(code(await mallory.request(a)));
    const typingRefused = mallory.next((m) => m.type === 'error' && m.re === undefined);
    mallory.sendRaw({ type: 'typing', target: { room: 'lobby' }, active: true, from: 'bob' });
    replies.push(code(await typingRefused));
    expect(replies).toEqual(Array(attempts.length + 1).fill('SCHEMA_VIOLATION'));
    // barrier: an honest message from mallory arrives, shown as mallory's
    const honest = nextEvent(bob, 'message', (m) => m.text === 'honest');
    expect(code(await mallory.request({ type: 'send', room: 'lobby', text: 'honest' }))).toBe('ack');
    expect((await honest)[0].from).toBe('mallory');
    expect(seen.map((m) => `${m.from}:${m.text}`)).toEqual(['mallory:honest']);
    expect(typing.filter((t) => t.from === 'bob')).toEqual([]);
    expect(bob.rooms.get('lobby')?.topic).toBe('');
  });

  it('a logged-in connection cannot become another user (login, register, device_login again)', async () => {
    const bobRaw = await fx.rawUser(server, 'bob2');
    const bob = await fx.connect(server);
    await bob.login('bob2', passwordOf('bob2'));
    const mallory = await fx.rawUser(server, 'mallory2');
    const signature = signDeviceLogin(bobRaw.device, mallory.sessionId, 'bob2', new Uint8Array(0));
    const replies = [
      code(await mallory.login('bob2', passwordOf('bob2'))), // even with the right password
      code(await mallory.login('bob2', 'guess-guess-guess')),
      code(await mallory.register('bob3', passwordOf('bob3'))),
      code(
        await mallory.request({
          type: 'device_login',
          username: 'bob2',
          signKey: b64(bobRaw.device.signPublicKey),
          signature: b64(signature),
        }),
      ),
    ];
    expect(replies).toEqual(Array(4).fill('ALREADY_AUTHENTICATED'));
    const got = nextEvent(bob, 'message', (m) => m.text === 'who am i');
    expect(code(await mallory.request({ type: 'send', room: 'lobby', text: 'who am i' }))).toBe('ack');
    expect((await got)[0].from).toBe('mallory2');
  });

  it("device_login with another user's public sign key, or own key under their name, fails", async () => {
    const victim = await fx.rawUser(server, 'victim');
    const mallory = await fx.rawUser(server, 'mallory3');
    const keys = await mallory.request({ type: 'keys_get', user: 'victim' });
    expect(keys.type).toBe('keys');
    const victimKey = keys.type === 'keys' ? keys.devices[0]!.signKey : '';
    expect(victimKey).toBe(b64(victim.device.signPublicKey));
    const results: string[] = [];
    for (let i = 0; i < 3; i++) {
      const anon = await fx.raw(server);
      // mallory signs with her own device but claims the victim's key
      const sig = signDeviceLogin(mallory.device, anon.sessionId, 'victim', new Uint8Array(0));
      results.push(code(await anon.request({ type: 'device_login', username: 'victim', signKey: victimKey, signature: b64(sig) })));
      // mallory's own (registered) key, under the victim's name
      results.push(
        code(
          await anon.request({ type: 'device_login', username: 'victim', signKey: b64(mallory.device.signPublicKey), signature: b64(sig) }),
        ),
      );
      // random signature bytes
      results.push(
        code(
          await anon.request({
            type: 'device_login',
            username: 'victim',
            signKey: victimKey,
            signature: b64(new Uint8Array(64).fill(i + 1)),
          }),
        ),
      );
    }
    expect(results).toEqual(Array(3).fill(['AUTH_FAILED', 'DEVICE_UNKNOWN', 'AUTH_FAILED']).flat());
  });

  it('a device_login proof captured on one connection fails on another (bound to the session id)', async () => {
    const victim = await fx.rawUser(server, 'victim2');
    const device = victim.device;
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const a = await fx.raw(server);
      const b = await fx.raw(server);
      const proofForA = signDeviceLogin(device, a.sessionId, 'victim2', new Uint8Array(0));
      const message = { type: 'device_login', username: 'victim2', signKey: b64(device.signPublicKey), signature: b64(proofForA) };
      outcomes.push(code(await b.request(message))); // replayed on B
      outcomes.push(code(await b.request({ ...message, username: 'VICTIM2' })));
      outcomes.push(code(await a.request(message))); // control: valid on A
      await a.close();
      outcomes.push(code(await b.request(message))); // still useless after A is gone
    }
    expect(outcomes).toEqual(Array(5).fill(['AUTH_FAILED', 'AUTH_FAILED', 'welcome', 'AUTH_FAILED']).flat());
  });
});

describe('identity: duplicate and look-alike usernames', () => {
  const fx = new AppFixture();
  const server = sharedServer(startTestServer, fx);

  const LOOKALIKES: [string, string][] = [
    ['alice', 'exact duplicate'],
    ['Alice', 'case'],
    ['ALICE', 'case'],
    ['ａｌｉｃｅ', 'fullwidth forms'],
    ['\u0430lice', 'Cyrillic a'],
    ['alic\u0435', 'Cyrillic ie'],
    ['\u0430\u04cf\u0456\u0441\u0435', 'all Cyrillic'],
    ['al\u200bice', 'zero-width space'],
    ['alice\u200d', 'zero-width joiner'],
    ['\u200balice', 'leading zero-width'],
    ['al\u00adice', 'soft hyphen'],
    ['alice\ufeff', 'BOM'],
    ['\u202eecila', 'bidi override'],
    ['ali\u2066ce\u2069', 'bidi isolate'],
    ['a\u0301lice', 'combining accent'],
    ['alice\u0000', 'NUL'],
    ['alice\u001b[31m', 'escape sequence'],
    ['a1ice', 'digit one for l'],
    ['aIice', 'capital I for l'],
    ['al1ce', 'digit one for i'],
    ['al_ice', 'underscore'],
    ['al-ice', 'hyphen'],
    ['alice_', 'trailing underscore'],
    ['a l i c e', 'spaces'],
    ['admin', 'reserved'],
    ['Admin', 'reserved, case'],
    ['adm1n', 'reserved, skeleton'],
    ['admln', 'reserved, skeleton'],
    ['\u0430dmin', 'reserved, Cyrillic'],
    ['r00t', 'reserved, skeleton'],
    ['rnallory', 'rn for m'],
    ['ma11ory', 'digits for l'],
    ['MALLORY', 'case'],
  ];

  it(`refuses ${LOOKALIKES.length} look-alikes of existing and reserved names; the directory keeps canonical names only`, async () => {
    const alice = await fx.user(server, 'alice');
    await fx.rawUser(server, 'mallory');
    const before = (await alice.listUsers()).map((u) => u.user).sort();
    const outcomes: string[] = [];
    for (const [name, why] of LOOKALIKES) {
      const raw = await fx.raw(server);
      const reply = await raw.register(name, 'a-long-enough-password');
      outcomes.push(`${why}: ${code(reply)}`);
      await raw.close();
    }
    const accepted = outcomes.filter((o) => !/: USERNAME_(TAKEN|INVALID)$/.test(o));
    expect(accepted).toEqual([]);
    expect((await alice.listUsers()).map((u) => u.user).sort()).toEqual(before);
    expect(before).toEqual(['alice', 'mallory']);
  });

  it('logging in with a look-alike never reaches the real account; case folding is the same account (control)', async () => {
    await fx.user(server, 'carol');
    const outcomes: string[] = [];
    for (const name of ['\u0441arol', 'car\u200bol', 'c4rol', '\u202elorac', 'car0l']) {
      const raw = await fx.raw(server);
      outcomes.push(code(await raw.login(name, passwordOf('carol'))));
      await raw.close();
    }
    expect(outcomes).toEqual(Array(5).fill('AUTH_FAILED'));
    const raw = await fx.raw(server);
    const welcome = await raw.login('CAROL', passwordOf('carol'));
    expect(welcome.type === 'welcome' && welcome.user).toBe('carol');
  });
});

describe('identity: password guessing', () => {
  const fx = new AppFixture();
  const servers: TestServer[] = [];
  afterEach(async () => {
    await fx.cleanup();
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  async function fresh(overrides: Parameters<typeof startTestServer>[0] = {}): Promise<TestServer> {
    const s = await startTestServer(overrides);
    servers.push(s);
    return s;
  }

  /** Login attempts on one connection until RATE_LIMITED (bounded); returns every reply. */
  async function guess(raw: RawClient, name: string, passwords: (i: number) => string, max = 12): Promise<ServerMessage[]> {
    const replies: ServerMessage[] = [];
    for (let i = 0; i < max; i++) {
      const reply = await raw.login(name, passwords(i), DeviceIdentity.generate());
      replies.push(reply);
      if (code(reply) === 'RATE_LIMITED') break;
    }
    return replies;
  }

  it('wrong passwords back off with RATE_LIMITED + retryAfterMs; then even the right password waits', async () => {
    const server = await fresh();
    await fx.rawUser(server, 'alice');
    const raw = await fx.raw(server);
    const replies = await guess(raw, 'alice', (i) => `wrong-password-${i}`);
    const codes = replies.map(code);
    expect(codes.at(-1)).toBe('RATE_LIMITED');
    expect(codes.slice(0, -1).every((c) => c === 'AUTH_FAILED')).toBe(true);
    expect(codes.length).toBeLessThanOrEqual(8);
    const limited = replies.at(-1)!;
    expect(limited.type === 'error' && limited.retryAfterMs).toBeGreaterThan(0);
    // no oracle while limited: the right password gets the same answer, from another connection too
    const other = await fx.raw(server);
    expect(code(await other.login('alice', passwordOf('alice')))).toBe('RATE_LIMITED');
  });

  it('unknown users get the same error text and the same back-off as real ones', async () => {
    const server = await fresh();
    await fx.rawUser(server, 'alice');
    const known = await guess(await fx.raw(server), 'alice', (i) => `wrong-password-${i}`);
    const server2 = await fresh();
    await fx.rawUser(server2, 'alice');
    const unknown = await guess(await fx.raw(server2), 'nosuchuser', (i) => `wrong-password-${i}`);
    const shape = (m: ServerMessage) => (m.type === 'error' ? `${m.code}|${m.code === 'AUTH_FAILED' ? m.message : ''}` : m.type);
    expect(unknown.map(shape)).toEqual(known.map(shape));
  });

  it('one address guessing many different names is limited too', async () => {
    const server = await fresh();
    const raw = await fx.raw(server);
    const replies: string[] = [];
    for (let i = 0; i < 20 && replies.at(-1) !== 'RATE_LIMITED'; i++) replies.push(code(await raw.login(`someone${i}`, 'password-guess')));
    expect(replies.at(-1)).toBe('RATE_LIMITED');
    expect(replies.length).toBeLessThanOrEqual(12);
  });

  it('unknown-user and wrong-password logins take similar time (medians, scrypt N=2^13)', async () => {
    const server = await fresh({ scryptN: 2 ** 13 });
    // Linux routes all of 127/8 to loopback: distinct source addresses keep each under the
    // per-address back-off (10 free failures). Elsewhere: one address, fewer samples.
    const multi = process.platform === 'linux';
    const addresses = multi ? Array.from({ length: 6 }, (_, i) => `127.0.0.${i + 2}`) : ['127.0.0.1'];
    const perAddress = 8;
    const accounts = Array.from({ length: 8 }, (_, i) => `victim${i}`);
    for (const a of accounts) await fx.rawUser(server, a);
    const warm = await fx.raw(server, multi ? { localAddress: '127.0.0.200' } : {});
    await warm.login('warmup', 'password-guess'); // the dummy hash is made once, on first use
    const times: Record<'unknown' | 'wrong', number[]> = { unknown: [], wrong: [] };
    let accountTurn = 0;
    let unknownTurn = 0;
    const perAccount = new Map<string, number>();
    for (const address of addresses) {
      const raw = await fx.raw(server, multi ? { localAddress: address } : {});
      for (let i = 0; i < perAddress; i++) {
        const kind = i % 2 === 0 ? 'unknown' : 'wrong';
        let name: string;
        if (kind === 'unknown') name = `ghost${unknownTurn++}`;
        else {
          // at most 4 failures per account (5 are free)
          do name = accounts[accountTurn++ % accounts.length]!;
          while ((perAccount.get(name) ?? 0) >= 4);
          perAccount.set(name, (perAccount.get(name) ?? 0) + 1);
        }
        const start = process.hrtime.bigint();
        const reply = await raw.login(name, `guess-${i}-password`);
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        expect(code(reply)).toBe('AUTH_FAILED');
        times[kind].push(ms);
      }
      await raw.close();
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const mu = median(times.unknown);
    const mw = median(times.wrong);
    // generous: a server that skipped hashing for unknown users would be an order of magnitude off
    console.log(
      `login timing: unknown median ${mu.toFixed(1)} ms (${times.unknown.length}), wrong-password median ${mw.toFixed(1)} ms (${times.wrong.length})`,
    );
    expect(mu / mw).toBeGreaterThan(0.5);
    expect(mu / mw).toBeLessThan(2);
    expect(times.unknown.length).toBeGreaterThanOrEqual(4);
  });
});
