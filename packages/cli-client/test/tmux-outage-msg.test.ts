// /msg typed while the server restarts, driven through a real `hush` in tmux against a real hushd:
// the message goes out once the client is back, and the conversation it opened shows no error for
// the history it asked for meanwhile (a call made while reconnecting waits, it does not time out).
import { describe, expect, it } from 'vitest';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

/** Longer than the client's request timeout (15 s), which once failed calls waiting for a reconnect. */
const OUTAGE_MS = 17_000;

describe('hush in tmux: /msg during a server restart', () => {
  it('is delivered once back, with no error for the history the new conversation asked for', async () => {
    const alice = await bed.loggedIn('alice');
    const bob = await bed.sdkClient('bob');
    await bob.register('bob', PASSWORD);
    const received = new Promise<string>((resolve) => bob.on('message', (m) => m.from === 'alice' && resolve(m.text)));

    await bed.stopServer();
    await alice.waitFor(/reconnecting/);
    await alice.typeLine('/msg bob sent during the outage');
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await bed.restart();
    expect(await received).toBe('sent during the outage');

    await alice.typeLine('/query bob');
    const pane = await alice.waitFor('<alice> sent during the outage');
    expect(pane).not.toMatch(/still reconnecting|TIMEOUT|!!!/);
  }, 120_000);
});
