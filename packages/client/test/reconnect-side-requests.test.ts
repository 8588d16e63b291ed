// Calls made during an outage wait it out, however long, over a real socket against a real hushd:
// a history page asked for while reconnecting (as hush does when /msg opens a conversation) is not
// failed with TIMEOUT because the reconnect took longer than the request timeout.
import { startTestServer, type TestServer } from '@hush/server';
import { afterEach, describe, expect, it } from 'vitest';
import { CutProxy } from '@hush/test-kit';
import type { HushClient } from '../src/client.js';
import { collect, Fixture, nextEvent, sentAndShown } from './helpers.js';

const TIMEOUT_MS = 500;

describe('requests during a reconnect', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  /** alice (a short request timeout) connected through a proxy the test can cut. */
  async function aliceCutOff(): Promise<{ server: TestServer; proxy: CutProxy; alice: HushClient }> {
    const server = fx.stopAfter(await startTestServer());
    const proxy = await CutProxy.start({ host: server.host, port: server.port });
    fx.stopAfter({ stop: () => proxy.close() });
    const alice = await fx.user({ host: proxy.host, port: proxy.port, fingerprint: server.fingerprint }, 'alice', {
      timeoutMs: TIMEOUT_MS,
    });
    return { server, proxy, alice };
  }

  it('a history page and a DM asked for while reconnecting both succeed once back, with no error', async () => {
    const { server, proxy: p, alice } = await aliceCutOff();
    const bob = await fx.user(server, 'bob');
    await sentAndShown(bob, alice, 'before the outage');
    const errors = collect(alice, 'error');

    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    p.cut();
    await reconnecting;
    const page = alice.history({ user: 'bob' });
    page.catch(() => undefined); // awaited below; a rejection must not go unhandled meanwhile
    const bobGets = nextEvent(bob, 'message', (m) => m.text === 'sent during the outage', 20_000);
    const sent = alice.sendDirect('bob', 'sent during the outage');
    // Longer than the request timeout, several times over.
    await new Promise((r) => setTimeout(r, TIMEOUT_MS * 4));

    const ready = nextEvent(alice, 'state', (s) => s === 'ready', 15_000);
    p.heal();
    await ready;
    expect((await page).messages.map((m) => m.text)).toEqual(['before the outage']);
    await sent;
    await bobGets;
    expect(errors).toEqual([]);
  }, 30_000);

  it('a call waiting for the reconnect is rejected with CONNECTION_CLOSED when the client is closed', async () => {
    const { proxy: p, alice } = await aliceCutOff();
    const reconnecting = nextEvent(alice, 'state', (s) => s === 'reconnecting');
    p.cut();
    await reconnecting;
    const members = alice.members('lobby');
    members.catch(() => undefined);
    await alice.close();
    await expect(members).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
  });
});
