// hushd on PostgreSQL loses its database while a user types: the server refuses the sends as
// temporary (INTERNAL with retryAfterMs), and the SDK keeps them pending and sends them again by
// itself, same key and same sealed envelope, once the database is back: each stored once, no
// refusal, and the receivers see no gap (no "missing" warning for a DM or a room line).
import { startTestServer, type TestServer } from '@hush/server';
import { e2eRoom, passwordOf, startPostgres, type TestPostgres, until } from '@hush/test-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isHushError } from '../src/errors.js';
import type { PendingSend } from '../src/types.js';
import { collect, Fixture, sentAndShown } from './helpers.js';

describe('sends during a database outage', () => {
  const fx = new Fixture();
  let pg: TestPostgres;
  let server: TestServer;
  beforeAll(async () => {
    pg = await startPostgres();
  }, 60_000);
  afterEach(() => fx.cleanup());
  afterAll(() => pg?.stop());

  it('stay pending while it is away and go out once by themselves after: room lines and DMs, no gap warning', async () => {
    server = fx.stopAfter(
      await startTestServer({ store: await pg.createDatabase(), limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } }),
    );
    const alice = await fx.user(server, 'alice');
    const bob = await fx.user(server, 'bob');
    await e2eRoom('vault', alice, bob);
    // Keys, sessions and sender keys in place: during the outage only the sends themselves meet it.
    await sentAndShown(alice, bob, 'dm before');
    await sentAndShown(alice, bob, 'room before', 'vault');
    const dmWarnings = collect(bob, 'dmWarning');
    const notices = collect(bob, 'notice');
    const got = collect(bob, 'message');
    const outbox: PendingSend[][] = [];
    alice.on('outbox', (pending) => outbox.push(pending));
    /** How many times the send of `text` went out (state 'sending' after 'queued'). */
    const tries = (text: string) =>
      outbox.map((p) => p.find((s) => s.text === text)?.state).filter((state, i, all) => state === 'sending' && all[i - 1] !== 'sending')
        .length;

    await pg.halt();
    const settled: string[] = [];
    const sends = [alice.send('vault', 'room during 1'), alice.sendDirect('bob', 'dm during'), alice.send('vault', 'room during 2')].map(
      (p, i) =>
        p.then(
          (ack) => {
            settled.push(`ack ${i}`);
            return ack;
          },
          (error: unknown) => {
            settled.push(`refused ${i}: ${String(error)}`);
            throw error;
          },
        ),
    );
    // Each goes out, is refused for now and queued again, and goes out again later: still pending.
    await until(() => tries('room during 1') >= 2 && tries('dm during') >= 2, 'two tries of each while it is away', 20_000);
    expect(settled).toEqual([]);
    expect(alice.pendingSends.map((s) => s.text)).toEqual(['room during 1', 'dm during', 'room during 2']);

    await pg.start();
    const acks = await Promise.all(sends);
    expect(settled.sort()).toEqual(['ack 0', 'ack 1', 'ack 2']);
    expect(alice.pendingSends).toEqual([]);
    await until(() => got.length >= 3, 'bob has the three', 15_000);
    await sentAndShown(alice, bob, 'dm after');
    await sentAndShown(alice, bob, 'room after', 'vault');

    expect(got.map((m) => m.text)).toEqual(['room during 1', 'dm during', 'room during 2', 'dm after', 'room after']);
    expect(dmWarnings).toEqual([]);
    expect(notices.filter((n) => n.level !== 'info')).toEqual([]);
    // Stored once each, under the ids acknowledged.
    const vault = await server.db.history({ room: 'vault' }, { limit: 50 });
    expect(vault.messages.map((m) => m.id)).toEqual(expect.arrayContaining([acks[0]!.id, acks[2]!.id]));
    expect(vault.messages).toHaveLength(4);
    const history = await alice.history({ user: 'bob' });
    expect(history.messages.map((m) => m.text)).toEqual(['dm before', 'dm during', 'dm after']);
    expect(history.messages[1]!.id).toBe(acks[1]!.id);
  }, 90_000);

  it('a DM the server refuses for good gives its sequence number back: sent again, the receiver sees no gap', async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bob = await fx.user(s, 'bob');
    const laptop = await fx.connect(s);
    await laptop.login('bob', passwordOf('bob'));
    await alice.safetyNumber('bob'); // alice knows both of bob's devices
    const warnings = collect(bob, 'dmWarning');
    await sentAndShown(alice, bob, 'to both devices');
    // The laptop is removed behind alice's back (no key change reaches her): her next envelope
    // still has an entry for it, and the server refuses it.
    await laptop.close();
    const [, gone] = await s.db.listDevices('bob');
    expect(await s.db.deleteDevice('bob', gone!.signKey)).toBe(true);
    const refused = await alice.sendDirect('bob', 'refused').catch((error: unknown) => error);
    expect(isHushError(refused, 'BAD_REQUEST')).toBe(true);
    await alice.safetyNumber('bob'); // she fetches bob's keys again
    await sentAndShown(alice, bob, 'sent again');
    await sentAndShown(alice, bob, 'and one more');
    expect(warnings).toEqual([]);
  });
});
