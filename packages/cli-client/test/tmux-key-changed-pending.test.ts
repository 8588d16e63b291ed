// A real `hush` in tmux whose server comes back with another identity key (another server on the
// same address) while lines are still on their way: the long warning is said once, in full; the
// lines waiting and the lines typed afterwards are refused in a few words, never with the warning
// again under each of them (with a handful waiting it filled the screen and buried the warning).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '@hush/server/testing';
import { describe, expect, it } from 'vitest';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

describe('hush in tmux: the server key changes while lines are on their way', () => {
  it('says the warning once; each line waiting, and each typed after, is refused in short words', async () => {
    const alice = await bed.loggedIn('alice');
    const port = bed.server.port;
    await bed.stopServer();
    await alice.waitFor('reconnecting…');
    await alice.typeLine('waiting one');
    await alice.typeLine('waiting two');
    await alice.waitFor((s) => s.split('(sending…)').length === 3, 'both lines waiting');

    const otherDir = mkdtempSync(join(tmpdir(), 'hush-other-server-'));
    let other: TestServer | undefined;
    try {
      other = await startTestServer({ dataDir: otherDir, port, registration: 'open' });
      await alice.waitFor('[SERVER_KEY_CHANGED]. hush stays open to read', 'the warning', 30_000);
      await alice.typeLine('typed after');
      const screen = await alice.waitFor((s) => s.split('not sent: the connection closed for good').length === 4, 'three refusals');
      expect(screen.split('HAS CHANGED').length - 1).toBe(1);
      expect(screen).not.toContain('(sending…)');
      expect(screen).toContain('<alice> waiting one');
      expect(screen).toContain('<alice> waiting two');
    } finally {
      await other?.stop();
      rmSync(otherDir, { recursive: true, force: true });
    }
  }, 90_000);
});
