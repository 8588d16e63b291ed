// Under tmux's and screen's TERM blessed fell back to 8-colour xterm and drew every grey thing
// (timestamps, gutters, borders) in black, invisible on a dark terminal. Real `hush` processes in
// tmux against a real hushd, read back with the colours tmux holds for each cell.
import { HushTui } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { PASSWORD, quit, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: grey', () => {
  for (const TERM of ['tmux-256color', 'screen']) {
    it(`is bright black under TERM=${TERM}, never black`, async () => {
      const tui = HushTui.start({
        args: [
          '--host',
          `127.0.0.1:${bed.server.port}`,
          '--user',
          'alice',
          '--register',
          '--login',
          '--fingerprint',
          bed.server.fingerprint,
        ],
        env: { HUSH_PASSWORD: PASSWORD, TERM },
      });
      try {
        await tui.waitFor((s) => s.includes('#lobby') && / connected /.test(s), 'alice on the chat screen');
        await tui.typeLine('a line with a timestamp');
        await tui.waitFor('<alice> a line with a timestamp');
        const row = tui
          .captureEscapes()
          .split('\n')
          .find((r) => r.includes('a line with a timestamp'))!;
        // the timestamp, then the nick: the last colour set before the time is grey
        const beforeTime = row.slice(0, row.search(/\d\d:\d\d/));
        expect(beforeTime.match(/\x1b\[[\d;]*m/g)?.at(-1)).toBe('\x1b[90m');
        expect(tui.captureEscapes()).not.toMatch(/\x1b\[(?:[\d;]*;)?30m/);
        await quit(tui);
      } finally {
        tui.kill();
      }
    }, 60_000);
  }
});
