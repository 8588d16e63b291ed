// close() lets the lines sent just before it be acknowledged, and writes what this device keeps
// (cursors, keys, history) before it waits on the server's goodbye: an app that stops waiting for
// close() (hush quits after 2 s) loses none of it, however slowly the server ends the connection.
// Over real sockets against a real hushd; the slow goodbye through a relay that leaves the client's
// end unanswered.
import { startTestServer } from '@hush/server';
import { afterEach, describe, expect, it } from 'vitest';
import { CutProxy } from '@hush/test-kit';
import { Fixture, nextEvent, sentAndShown } from './helpers.js';

describe('close() and a server slow to say goodbye', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('a line sent just before close() is acknowledged and delivered, not failed', async () => {
    const server = fx.stopAfter(await startTestServer());
    const alice = await fx.user(server, 'alice');
    const bob = await fx.user(server, 'bob');
    const heard = nextEvent(bob, 'message', (m) => m.text === 'typed, then quit');
    const sent = alice.send('lobby', 'typed, then quit');
    await alice.close();
    await expect(sent).resolves.toMatchObject({ id: expect.any(String) });
    await heard;
  });

  it('writes the device state at once, before the connection has ended', async () => {
    const server = fx.stopAfter(await startTestServer());
    const proxy = await CutProxy.start({ host: server.host, port: server.port });
    fx.stopAfter({ stop: () => proxy.close() });
    const alice = await fx.user({ host: proxy.host, port: proxy.port, fingerprint: server.fingerprint }, 'alice');
    const bob = await fx.user(server, 'bob');
    await sentAndShown(bob, alice, 'moves her cursor');

    // When the state's flush (the first of close()'s writes) completes, after close() was called.
    const state = (alice as unknown as { account: { state: { flush(): Promise<void> } } }).account.state;
    const flush = state.flush.bind(state);
    let flushedAfterMs = Number.NaN;
    const started = performance.now();
    state.flush = async () => {
      await flush();
      if (Number.isNaN(flushedAfterMs)) flushedAfterMs = performance.now() - started; // the first
    };
    proxy.hold();
    await alice.close();
    const closedAfterMs = performance.now() - started;

    // The goodbye waited for the relay (the transport gives up after 2 s); the state did not.
    expect(closedAfterMs).toBeGreaterThan(1_500);
    expect(flushedAfterMs).toBeLessThan(closedAfterMs - 1_000);
  });
});
