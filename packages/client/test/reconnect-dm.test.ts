// Direct messages sent while a user is briefly away (the SDK reconnecting, not a fresh login) arrive
// exactly once: the server's offline delivery at device login and the SDK's history catch-up
// overlap for conversations the client knew, and only offline delivery covers brand-new ones.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '@hush/server';
import type { ServerAddress } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import { CutProxy } from '@hush/test-kit';
import { collect, Fixture, homeOf, nextEvent, sentAndShown } from './helpers.js';

describe('direct messages across a reconnect', () => {
  const fx = new Fixture();
  let server: TestServer | undefined;
  let proxy: CutProxy | undefined;
  afterEach(async () => {
    await fx.cleanup();
    await proxy?.close();
    await server?.stop();
    server = undefined;
    proxy = undefined;
  });

  /** alice through the proxy; bob (a known conversation) and carol (never talked to alice) direct. */
  async function cast(s: TestServer): Promise<{ alice: HushClient; bob: HushClient; carol: HushClient; p: CutProxy }> {
    const p = await CutProxy.start({ host: s.host, port: s.port });
    proxy = p;
    const alice = await fx.user({ host: p.host, port: p.port, fingerprint: s.fingerprint }, 'alice');
    warnings.set(alice, collect(alice, 'dmWarning'));
    const bob = await fx.user(s, 'bob');
    const carol = await fx.user(s, 'carol');
    await sentAndShown(bob, alice, 'hello before');
    return { alice, bob, carol, p };
  }

  const warnings = new Map<HushClient, unknown[]>();

  function awayFrom(watcher: HushClient, user: string): Promise<unknown> {
    return nextEvent(watcher, 'presence', (p) => p.user === user && p.state === 'offline');
  }

  /** Heals the proxy, waits until alice is ready again, then expects each text once. */
  async function healAndExpect(
    p: CutProxy,
    alice: HushClient,
    bob: HushClient,
    got: ReturnType<typeof collect<'message'>>,
    expected: string[],
  ) {
    const ready = nextEvent(alice, 'state', (s) => s === 'ready', 15_000);
    p.heal();
    await ready;
    await expectOnceEach(alice, bob, got, expected);
  }

  async function expectOnceEach(alice: HushClient, bob: HushClient, got: ReturnType<typeof collect<'message'>>, expected: string[]) {
    expect(warnings.get(alice) ?? []).toEqual([]); // nothing missed, replayed or left unopened
    // A live message after the reconnect: anything late or duplicated would show before it.
    await sentAndShown(bob, alice, 'live after');
    expect(got.map((m) => `${m.from}:${m.text}`)).toEqual([...expected, 'bob:live after']);
    expect(new Set(got.map((m) => m.id)).size).toBe(got.length);
  }

  it('over a dropped socket', async () => {
    server = await startTestServer();
    const { alice, bob, carol, p } = await cast(server);
    const got = collect(alice, 'message');
    const away = awayFrom(bob, 'alice');
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    p.cut();
    await reconnecting;
    await away;
    await bob.sendDirect('alice', 'known while away');
    await carol.sendDirect('alice', 'new while away');
    await healAndExpect(p, alice, bob, got, ['bob:known while away', 'carol:new while away']);
  });

  it('over a server restart', async () => {
    const dataDir = await fx.dir();
    server = await startTestServer({ dataDir });
    const port = server.port;
    const { alice, bob, carol, p } = await cast(server);
    const got = collect(alice, 'message');
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    p.cut();
    await reconnecting;
    const bobBack = nextEvent(bob, 'state', (s) => s === 'ready', 15_000);
    const carolBack = nextEvent(carol, 'state', (s) => s === 'ready', 15_000);
    await server.stop();
    server = await startTestServer({ dataDir, port });
    await Promise.all([bobBack, carolBack]);
    await bob.sendDirect('alice', 'known while away');
    await carol.sendDirect('alice', 'new while away');
    await healAndExpect(p, alice, bob, got, ['bob:known while away', 'carol:new while away']);
  });

  // The server moved this device's delivery cursor past the DMs it wrote into the dying socket: the
  // known conversation's comes back through history catch-up (and device_login's since), the brand-new
  // conversation's only because the device tells the server at login (since) what it really received.
  it('when the socket dies with DMs of a known and a brand-new conversation in flight (the server believed it delivered)', async () => {
    server = await startTestServer();
    const { alice, bob, carol, p } = await cast(server);
    const got = collect(alice, 'message');
    p.swallow();
    await bob.sendDirect('alice', 'known in flight');
    await carol.sendDirect('alice', 'new in flight');
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    p.cut();
    await reconnecting;
    await healAndExpect(p, alice, bob, got, ['bob:known in flight', 'carol:new in flight']);
  });

  it('after a restart of the client, the first device login asks from the newest DM it handled', async () => {
    server = await startTestServer();
    const { alice, bob, carol, p } = await cast(server);
    const paths = alice.paths;
    // Her own DM counts as handled too (from its ack): offered again it would look like a replay.
    await alice.sendDirect('bob', 'mine before');
    // The swallowed DM never reaches alice; she closes (state saved) and a new process logs in.
    p.swallow();
    await carol.sendDirect('alice', 'new while closing');
    await alice.close();
    p.heal();
    const next = await fx.connect({ host: p.host, port: p.port, fingerprint: server.fingerprint }, { paths });
    warnings.set(next, collect(next, 'dmWarning'));
    const got = collect(next, 'message');
    const arrived = nextEvent(next, 'message', (m) => m.text === 'new while closing');
    await next.login('alice');
    await arrived;
    // 'hello before' and 'mine before' were handled by the previous process: not offered again.
    await expectOnceEach(next, bob, got, ['carol:new while closing']);
  });

  /**
   * Runs `during` on a new process of alice, then puts `files` of her state folder back as they were
   * before it (what a crash at that point leaves; one that did not exist is removed) and connects
   * her next process, not logged in yet.
   */
  async function crashed(
    alice: HushClient,
    at: ServerAddress,
    files: string[],
    during: (c: HushClient) => Promise<unknown>,
  ): Promise<HushClient> {
    const dir = homeOf(alice.paths.dataDir, alice).state;
    await alice.close(); // its state saved up to here
    const before = await Promise.all(files.map((f) => readFile(join(dir, f)).catch(() => undefined)));
    const first = await fx.connect(at, { paths: alice.paths });
    await first.login('alice');
    await during(first);
    await first.close();
    await Promise.all(files.map((f, i) => (before[i] ? writeFile(join(dir, f), before[i]) : rm(join(dir, f), { force: true }))));
    return fx.connect(at, { paths: alice.paths });
  }

  // A process that dies after a DM was opened and saved, but before its catch-up cursor and
  // sequence state were: the server offers the DM again at the next login.
  it.each([
    ['after the application was shown it: not shown again', ['alice.json'], []],
    ['before the application was shown it: shown now, once', ['alice.json', 'alice.shown'], ['bob:offered again']],
  ])('a client killed %s', async (_when, files, expected) => {
    server = await startTestServer();
    const { alice, bob, p } = await cast(server);
    const at = { host: p.host, port: p.port, fingerprint: server.fingerprint };
    const next = await crashed(alice, at, files, (first) => sentAndShown(bob, first, 'offered again'));
    warnings.set(next, collect(next, 'dmWarning'));
    const got = collect(next, 'message');
    await next.login('alice');
    await expectOnceEach(next, bob, got, expected);
  });

  it('a room key whose DM was opened but not yet stored when the client was killed is taken when offered again', async () => {
    server = await startTestServer();
    const { alice, bob, p } = await cast(server);
    await bob.createRoom('keys', '', 'e2e');
    await alice.joinRoom('keys');
    const at = { host: p.host, port: p.port, fingerprint: server.fingerprint };
    const files = ['alice.json', 'alice.shown', 'alice.roomkeys.json'];
    const next = await crashed(alice, at, files, (first) => sentAndShown(bob, first, 'first', 'keys'));
    warnings.set(next, collect(next, 'dmWarning'));
    await next.login('alice');
    // bob's key reached this device once: his next message opens with it.
    await sentAndShown(bob, next, 'second', 'keys');
    expect(warnings.get(next)).toEqual([]);
  });
});
