import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeDirectEnvelope } from '@hush/protocol';
import { startTestServer } from '@hush/server';
import { sharedServer } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { b64, unb64 } from '../src/wire.js';
import { collect, Fixture, nextEvent, sentAndShown } from './helpers.js';

describe('end-to-end direct messages', () => {
  const fx = new Fixture();
  const server = sharedServer(startTestServer, fx);

  it("a DM is opened by the recipient and by the sender's other device; the server stores no plaintext", async () => {
    const alicePaths = await fx.paths();
    const alice = await fx.user(server, 'alice', { paths: alicePaths });
    const bob = await fx.user(server, 'bob');
    // Alice's second device (another machine): password login binds a new device key.
    const alice2 = await fx.connect(server);
    await alice2.login('alice', 'pw-alice-secret');

    const canary = `canary-${Math.random().toString(36).slice(2)}-plaintext`;
    const bobGot = nextEvent(bob, 'message', (m) => m.kind === 'dm');
    const alice2Got = nextEvent(alice2, 'message', (m) => m.kind === 'dm');
    const aliceSees = collect(alice, 'message');
    const sent = await alice.sendDirect('bob', canary);
    const [atBob] = await bobGot;
    expect(atBob).toEqual({ kind: 'dm', id: sent.id, ts: sent.ts, from: 'alice', peer: 'alice', text: canary, action: false, mine: false });
    const [atAlice2] = await alice2Got;
    expect(atAlice2).toMatchObject({ from: 'alice', peer: 'bob', text: canary, mine: true });
    expect(aliceSees).toEqual([
      { kind: 'dm', id: sent.id, ts: sent.ts, from: 'alice', peer: 'bob', text: canary, action: false, mine: true },
    ]);

    // Reply as an action; history on both sides opens the envelopes.
    const back = nextEvent(alice, 'message', (m) => m.from === 'bob');
    await bob.sendDirect('alice', 'waves', { action: true });
    expect((await back)[0]).toMatchObject({ kind: 'dm', peer: 'bob', text: 'waves', action: true, mine: false });
    const hist = await bob.history({ user: 'alice' });
    expect(hist.messages.map((m) => [m.from, m.text])).toEqual([
      ['alice', canary],
      ['bob', 'waves'],
    ]);

    // Not in the server's files: database, WAL, anything in its data directory.
    for (const name of await readdir(server.dataDir)) {
      const bytes = await readFile(join(server.dataDir, name)).catch(() => Buffer.alloc(0));
      expect(bytes.includes(Buffer.from(canary)), name).toBe(false);
    }
    // And the stored row is only an opaque envelope.
    const stored = server.store.history({ dm: ['alice', 'bob'] }, { limit: 10 }).messages;
    expect(stored.length).toBe(2);
    for (const m of stored) expect(JSON.stringify(m)).not.toContain(canary);
  });

  it('safety numbers match on both sides; a key change blocks sending to a verified contact until re-verified', async () => {
    const carol = await fx.user(server, 'carol');
    const dave = await fx.user(server, 'dave');
    const [a, b] = await Promise.all([carol.safetyNumber('dave'), dave.safetyNumber('carol')]);
    expect(a).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(a).toBe(b);
    expect(carol.isVerified('dave')).toBe(false);
    await carol.verifyContact('dave');
    expect(carol.isVerified('dave')).toBe(true);
    await carol.sendDirect('dave', 'verified hello');

    // Dave adds a device: carol is told, and sending is blocked until she verifies again.
    const change = nextEvent(carol, 'keyChange', (k) => k.user === 'dave');
    const dave2 = await fx.connect(server);
    await dave2.login('dave', 'pw-dave-secret');
    expect((await change)[0]).toEqual({ user: 'dave', verified: true });
    expect(carol.isVerified('dave')).toBe(false);
    await expect(carol.sendDirect('dave', 'blocked?')).rejects.toMatchObject({ code: 'E2E_KEY_CHANGED' });
    const newNumber = await carol.safetyNumber('dave');
    expect(newNumber).not.toBe(a);
    expect(newNumber).toBe(await dave2.safetyNumber('carol'));
    await carol.verifyContact('dave');
    await sentAndShown(carol, dave2, 'after re-verify');
  });

  it('a DM replayed by the server is detected and dropped (dmWarning replay), not shown', async () => {
    const erin = await fx.user(server, 'erin');
    const frankPaths = await fx.paths();
    const frank = await fx.user(server, 'frank', { paths: frankPaths });
    const got = nextEvent(frank, 'message', (m) => m.kind === 'dm');
    await erin.sendDirect('frank', 'pay 10 coins');
    await got;
    await frank.close();

    // A malicious server stores the same envelope again; it reaches frank as offline delivery.
    const original = server.store.history({ dm: ['erin', 'frank'] }, { limit: 1 }).messages[0]!;
    if (original.kind !== 'dm') throw new Error('expected a dm row');
    server.store.appendMessages([{ kind: 'dm', ts: Date.now(), from: 'erin', to: 'frank', envelope: original.envelope }]);
    // A genuinely new message after it still arrives, with no warning.
    await erin.sendDirect('frank', 'second');

    const again = fx.track(
      await (await import('../src/client.js')).HushClient.connect({
        host: server.host,
        port: server.port,
        paths: frankPaths,
        timeoutMs: 5000,
      }),
    );
    const messages = collect(again, 'message');
    const warnings = collect(again, 'dmWarning');
    const second = nextEvent(again, 'message', (m) => m.text === 'second');
    await again.login('frank');
    await second;
    expect(warnings).toEqual([{ user: 'erin', kind: 'replay' }]);
    expect(messages.map((m) => m.text)).toEqual(['second']);
  });

  it('an envelope that does not open is reported as undecryptable', async () => {
    const gil = await fx.user(server, 'gil');
    const hal = await fx.user(server, 'hal');
    const warn = nextEvent(hal, 'dmWarning');
    // Bypass the SDK's sealing: a raw dm_send, well framed for hal's device, with garbage for its session message.
    const raw = gil as unknown as { request(body: unknown, expect: string[]): Promise<{ devices: { signKey: string }[] }> };
    const deviceOf = async (user: string) => unb64((await raw.request({ type: 'keys_get', user }, ['keys'])).devices[0]!.signKey);
    const garbage = new TextEncoder().encode('not a sealed box');
    const envelope = encodeDirectEnvelope(await deviceOf('gil'), [{ device: await deviceOf('hal'), message: garbage }]);
    await raw.request({ type: 'dm_send', to: 'hal', envelope: b64(envelope) }, ['ack']);
    expect((await warn)[0]).toEqual({ user: 'gil', kind: 'undecryptable' });
  });
});
