// A device's very first DM, lost in transit: the server moved the device's delivery cursor past it
// when it queued it, and the device had no DM id yet to send as device_login's `since`. It asks
// from the beginning instead, so the DM comes back once, and a room sender key carried by it opens
// the room message that waited for it.
import type { TestServer } from '@hush/server';
import { CutProxy, passwordOf } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import type { ChatMessage } from '../src/types.js';
import { collect, Fixture, nextEvent, sentAndShown } from './helpers.js';

describe("a device's first DM lost in transit", () => {
  const fx = new Fixture();
  const proxies: CutProxy[] = [];
  afterEach(async () => {
    await fx.cleanup(); // clients, then the server
    await Promise.all(proxies.splice(0).map((p) => p.close()));
  });

  /** A fresh alice (no DM ever) through a proxy, bob direct. */
  async function cast(): Promise<{ server: TestServer; alice: HushClient; bob: HushClient; p: CutProxy }> {
    const server = await fx.unthrottledServer();
    const p = await CutProxy.start({ host: server.host, port: server.port });
    proxies.push(p);
    const alice = await fx.user({ host: p.host, port: p.port, fingerprint: server.fingerprint }, 'alice');
    const bob = await fx.user(server, 'bob');
    return { server, alice, bob, p };
  }

  /** What the server sends alice from now on is lost; `send` runs (acknowledged), then her socket is cut and healed. */
  async function lostInTransit(alice: HushClient, p: CutProxy, send: () => Promise<unknown>): Promise<void> {
    p.swallow();
    await send();
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting', 15_000);
    p.cut();
    await reconnecting;
    const ready = nextEvent(alice, 'state', (s) => s === 'ready', 15_000);
    p.heal();
    await ready;
  }

  const texts = (got: ChatMessage[]) => got.map((m) => `${m.from}:${m.text}`);

  it('comes back at the next device login, exactly once', async () => {
    const { alice, bob, p } = await cast();
    const warnings = collect(alice, 'dmWarning');
    const got = collect(alice, 'message');
    const arrived = nextEvent(alice, 'message', (m) => m.text === 'first ever', 15_000);
    await lostInTransit(alice, p, () => bob.sendDirect('alice', 'first ever'));
    await arrived;
    // A live message after it: a late duplicate would show before it.
    await sentAndShown(bob, alice, 'live after');
    expect(texts(got)).toEqual(['bob:first ever', 'bob:live after']);
    expect(new Set(got.map((m) => m.id)).size).toBe(got.length);
    expect(warnings).toEqual([]);
  });

  it("an e2e room: bob's first message, whose sender key DM was lost, opens for alice after the reconnect", async () => {
    const { alice, bob, p } = await cast();
    await alice.createRoom('vault', '', 'e2e');
    await bob.joinRoom('vault');
    const notices = collect(alice, 'notice');
    const warnings = collect(alice, 'dmWarning');
    const got = collect(alice, 'message');
    const opened = nextEvent(alice, 'message', (m) => m.room === 'vault' && m.text === 'first in the vault', 15_000);
    // bob's first message there hands his sender key to alice by DM, then goes out under it.
    await lostInTransit(alice, p, () => bob.send('vault', 'first in the vault'));
    await opened;
    await sentAndShown(bob, alice, 'second in the vault', 'vault');
    expect(texts(got.filter((m) => m.room === 'vault'))).toEqual(['bob:first in the vault', 'bob:second in the vault']);
    expect(new Set(got.map((m) => m.id)).size).toBe(got.length);
    expect(warnings).toEqual([]);
    expect(notices.filter((n) => n.level === 'warn')).toEqual([]);
  });

  it('a new device of an account with DMs: asking from the beginning shows and warns of nothing sealed before it', async () => {
    const { server, alice, bob } = await cast();
    await sentAndShown(bob, alice, 'to the first device');
    await sentAndShown(alice, bob, 'from the first device');
    // A second device of alice: bound by password, then back by device login (its `since` is "0").
    const paths = await fx.paths();
    const laptop = await fx.connect(server, { paths });
    await laptop.login('alice', passwordOf('alice'));
    await laptop.close();
    const back = await fx.connect(server, { paths });
    const warnings = collect(back, 'dmWarning');
    const got = collect(back, 'message');
    await back.login('alice');
    await sentAndShown(bob, back, 'to both devices');
    expect(texts(got)).toEqual(['bob:to both devices']);
    expect(warnings).toEqual([]);
  });
});
