import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '@hush/server';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClientPaths } from '../src/paths.js';
import { collect, Fixture, homeOf, nextEvent, sentAndShown } from './helpers.js';

// DMs on forward-secret sessions, against a real hushd over real sockets. The server's store stands
// in for a malicious server where one is needed (it hands out what the tests put there).

describe('direct messages on forward-secret sessions', () => {
  let server: TestServer;
  const fx = new Fixture();
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await fx.cleanup();
  });
  afterAll(() => server.stop());

  const deviceOf = (user: string) => server.store.listDevices(user)[0]!.signKey;
  const remaining = (user: string) => server.store.countOneTimePrekeys(user, deviceOf(user));
  const sessionFile = (paths: ClientPaths, user: string) => join(homeOf(paths.dataDir, server).state, `${user}.sessions.json`);

  /** `<prefix>-bob` (with his data directory, to come back to) has shown a first DM from `<prefix>-alice`. */
  async function talking(prefix: string) {
    const bobPaths = await fx.paths();
    const bob = await fx.user(server, `${prefix}-bob`, { paths: bobPaths });
    const alice = await fx.user(server, `${prefix}-alice`);
    await sentAndShown(alice, bob, 'one');
    return { bob, bobPaths, alice };
  }

  it('each device publishes prekeys at login; a one-time prekey is handed out once; without any, sessions start on the signed prekey', async () => {
    const bobPaths = await fx.paths();
    const bob = await fx.user(server, 'pk-bob', { paths: bobPaths });
    expect(server.store.getSignedPrekey('pk-bob', deviceOf('pk-bob'))).toBeDefined();
    expect(remaining('pk-bob')).toBe(100);
    await sentAndShown(await fx.user(server, 'pk-alice'), bob, 'first');
    expect(remaining('pk-bob')).toBe(99);
    // The session file (sessions, prekey secrets, opened DMs) is private.
    const file = sessionFile(bobPaths, 'pk-bob');
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    while (server.store.takeOneTimePrekey('pk-bob', deviceOf('pk-bob'))) {
      /* the stock runs out */
    }
    const carol = await fx.user(server, 'pk-carol');
    const low = collect(bob, 'notice');
    await sentAndShown(carol, bob, 'signed prekey only');
    // The conversation goes on both ways on the established sessions.
    await sentAndShown(bob, carol, 'reply');
    expect(low).toEqual([]);
    // The request that found the stock empty told bob's device (prekeys_low): it refilled it.
    await waitFor(() => remaining('pk-bob') === 100);
    expect(JSON.parse(await readFile(file, 'utf8')).sessions).toBeTypeOf('object');
  });

  it('a DM to yourself reaches your other device and shows on this one', async () => {
    const paths = await fx.paths();
    const me = await fx.user(server, 'self-sam', { paths });
    const mine = collect(me, 'message');
    const note = await me.sendDirect('self-sam', 'note to self');
    expect(mine).toEqual([expect.objectContaining({ id: note.id, text: 'note to self', mine: true })]);
    const other = await fx.connect(server);
    await other.login('self-sam', 'pw-self-sam-secret');
    const got = nextEvent(other, 'message', (m) => m.text === 'from the first device');
    const warnings = collect(me, 'dmWarning');
    await me.sendDirect('self-sam', 'from the first device');
    await got;
    const hist = await me.history({ user: 'self-sam' });
    expect(hist.messages.map((m) => m.text)).toEqual(['note to self', 'from the first device']);
    expect(warnings).toEqual([]);
  });

  it('a prekey bundle with a bad signature is refused: nothing is sent', async () => {
    await fx.user(server, 'bad-bob');
    const spk = server.store.getSignedPrekey('bad-bob', deviceOf('bad-bob'))!;
    const forged = Buffer.from(spk.signature, 'base64url');
    forged[0]! ^= 1;
    server.store.setSignedPrekey('bad-bob', deviceOf('bad-bob'), {
      ...spk,
      createdAt: spk.createdAt + 1,
      signature: forged.toString('base64url'),
    });
    const mallory = await fx.user(server, 'bad-alice');
    const notices = collect(mallory, 'notice');
    await expect(mallory.sendDirect('bad-bob', 'to a forged key?')).rejects.toMatchObject({ code: 'E2E_NO_PREKEYS' });
    expect(notices.map((n) => n.code)).toContain('E2E_BAD_KEYS');
    expect(server.store.history({ dm: ['bad-alice', 'bad-bob'] }, { limit: 10 }).messages).toEqual([]);
  });

  it('a one-time prekey handed out twice: the second session is refused (session_reset), its message never shown', async () => {
    const bob = await fx.user(server, 'otp-bob');
    const key = deviceOf('otp-bob');
    const otp = server.store.takeOneTimePrekey('otp-bob', key)!;
    server.store.addOneTimePrekeys('otp-bob', key, [otp]);
    const erin = await fx.user(server, 'otp-erin');
    await sentAndShown(erin, bob, 'uses the one-time prekey');
    // The server hands the same one-time prekey to someone else.
    server.store.addOneTimePrekeys('otp-bob', key, [otp]);
    const frank = await fx.user(server, 'otp-frank');
    const messages = collect(bob, 'message');
    const warning = nextEvent(bob, 'dmWarning', (w) => w.user === 'otp-frank');
    await frank.sendDirect('otp-bob', 'on a reused prekey');
    expect((await warning)[0]).toEqual({ user: 'otp-frank', kind: 'session_reset' });
    expect(messages).toEqual([]);
  });

  it('a prekey bundle for a device that is not in the key directory is refused', async () => {
    await fx.user(server, 'dir-bob');
    await fx.user(server, 'dir-other');
    // The server swaps in another account's device and prekey for dir-bob's device.
    const otherSpk = server.store.getSignedPrekey('dir-other', deviceOf('dir-other'))!;
    server.store.setSignedPrekey('dir-bob', deviceOf('dir-bob'), { ...otherSpk, createdAt: otherSpk.createdAt + 10_000 });
    const alice = await fx.user(server, 'dir-alice');
    await expect(alice.sendDirect('dir-bob', 'x')).rejects.toMatchObject({ code: 'E2E_NO_PREKEYS' });
  });

  it('a signed prekey rotated mid-conversation: running sessions go on, a start on the old key still opens, new ones use the new key', async () => {
    const { bob, bobPaths, alice } = await talking('rot');
    const oldId = server.store.getSignedPrekey('rot-bob', deviceOf('rot-bob'))!.id;
    await bob.close();
    // Started on the old signed prekey while bob is away.
    const carol = await fx.user(server, 'rot-carol');
    await carol.sendDirect('rot-bob', 'started on the old key');
    await alice.sendDirect('rot-bob', 'during');

    // Eight days later bob logs in again and rotates.
    const real = Date.now.bind(Date);
    vi.spyOn(Date, 'now').mockImplementation(() => real() + 8 * 24 * 3600 * 1000);
    const again = await fx.connect(server, { paths: bobPaths });
    const seen = collect(again, 'message');
    const warnings = collect(again, 'dmWarning');
    const both = nextEvent(again, 'message', (m) => m.text === 'during');
    await again.login('rot-bob');
    await both;
    expect(server.store.getSignedPrekey('rot-bob', deviceOf('rot-bob'))!.id).not.toBe(oldId);
    await sentAndShown(alice, again, 'after');
    await sentAndShown(await fx.user(server, 'rot-dave'), again, 'new key');
    expect(seen.map((m) => m.text).sort()).toEqual(['after', 'during', 'new key', 'started on the old key']);
    expect(warnings).toEqual([]);
  });

  it('a second session with a base key already seen is refused (replay), its message never shown', async () => {
    const { bob, bobPaths, alice } = await talking('seen');
    await bob.close();
    // Bob's sessions are gone but the base keys he has seen are kept: alice has had no reply, so
    // her next message starts a session again on the same base key, which bob must not accept.
    await editSessionFile(sessionFile(bobPaths, 'seen-bob'), (state) => {
      expect(state.baseKeys.length).toBeGreaterThan(0);
      state.sessions = {};
    });
    const again = await fx.connect(server, { paths: bobPaths });
    await again.login('seen-bob');
    const warning = nextEvent(again, 'dmWarning');
    const seen = collect(again, 'message');
    await alice.sendDirect('seen-bob', 'on a seen base key');
    expect((await warning)[0]).toEqual({ user: 'seen-alice', kind: 'replay' });
    expect(seen).toEqual([]);
  });

  it('a lost session state: the receiver warns (session_reset) and the sender starts a new session by itself', async () => {
    const { bob, bobPaths, alice } = await talking('lost');
    await sentAndShown(bob, alice, 'ack'); // alice's session has its reply: no more X3DH header
    await bob.close();
    // Bob's session file is lost (a restored backup without it); his prekeys stay.
    await editSessionFile(sessionFile(bobPaths, 'lost-bob'), (state) => {
      state.sessions = {};
    });
    await alice.sendDirect('lost-bob', 'into the void');
    const again = await fx.connect(server, { paths: bobPaths });
    const warning = nextEvent(again, 'dmWarning');
    const seen = collect(again, 'message');
    await again.login('lost-bob');
    expect((await warning)[0]).toEqual({ user: 'lost-alice', kind: 'session_reset' });
    expect(seen).toEqual([]);
    // Bob writes first: a new session; alice accepts it and answers on it.
    await sentAndShown(again, alice, 'new session');
    await sentAndShown(alice, again, 'works again');
  });
});

/** Rewrites a client's session file (what a restored backup or a lost write leaves). */
async function editSessionFile(
  file: string,
  edit: (state: { sessions: Record<string, unknown>; baseKeys: string[] }) => void,
): Promise<void> {
  const state = JSON.parse(await readFile(file, 'utf8'));
  edit(state);
  await writeFile(file, JSON.stringify(state));
}

async function waitFor(done: () => boolean): Promise<void> {
  const until = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
