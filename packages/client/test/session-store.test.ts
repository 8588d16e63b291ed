// The list of DMs shown to the application (SessionStore.markShown): private, bounded, read back.
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SessionStore, SHOWN_LIMIT } from '../src/session-store.js';

describe('DMs shown', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('are written at once (0600), survive a reload, and the file keeps only the newest once it grows', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hush-shown-'));
    const store = await SessionStore.load(join(dir, 'state'), 'amy');
    const total = 2 * SHOWN_LIMIT + 100;
    for (let id = 1; id <= total; id++) store.markShown(String(id));
    store.markShown(String(total)); // again: not listed twice
    const file = join(dir, 'state', 'amy.shown');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const lines = (await readFile(file, 'utf8')).split('\n').filter(Boolean);
    expect(lines.length).toBeLessThanOrEqual(2 * SHOWN_LIMIT);
    expect(new Set(lines).size).toBe(lines.length);

    const again = await SessionStore.load(join(dir, 'state'), 'amy');
    expect(again.wasShown(String(total))).toBe(true);
    expect(again.wasShown(String(total - SHOWN_LIMIT + 1))).toBe(true);
    expect(again.wasShown(String(total - SHOWN_LIMIT))).toBe(false);
    expect(again.wasShown('1')).toBe(false);
  });
});
