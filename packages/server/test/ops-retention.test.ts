// Retention in a real daemon on its SQLite data directory: at start (and hourly after) it deletes
// messages older than retentionMs and files older than fileRetentionMs, through the store's calls,
// and logs how many, never what.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { startDaemon } from '../src/daemon.js';
import { loadOrCreateIdentity } from '../src/identity-file.js';
import { dataPaths } from '../src/paths.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { capturedLog } from './helpers/log-capture.js';
import { roomMsg } from './helpers/store-contract.js';
import { until } from '../../test-kit/src/until.js';

const DAY = 86_400_000;

describe('retention', () => {
  it('prunes old messages and files when the daemon starts, keeps the rest, and logs only the counts', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hush-retention-'));
    const now = Date.now();
    // A server that ran here once: its database and its identity (a start refuses accounts without their key).
    loadOrCreateIdentity(dataPaths(dataDir).identity);
    const seed = SqliteStore.open(dataPaths(dataDir).database);
    seed.createUser('alice', null, 'user', now);
    seed.appendMessages([roomMsg('lobby', 'secret old words', now - 3 * DAY), roomMsg('lobby', 'recent', now - 1000)]);
    const file = { from: 'alice', room: 'lobby', to: null, name: 'f.txt', sha512: null, size: 1 };
    seed.createFile({ ...file, id: 'file-old-1', createdAt: now - 8 * DAY });
    seed.createFile({ ...file, id: 'file-new-1', createdAt: now - 1000 });
    seed.close();
    await seed.background;

    const { stream: logStream, lines } = capturedLog();
    const daemon = await startDaemon(
      { ...DEFAULT_CONFIG, host: '127.0.0.1', port: 0, dataDir, scryptN: 2 ** 12, retentionMs: 2 * DAY, logLevel: 'info' },
      { logStream },
    );
    try {
      const pruned = lines.map((l) => JSON.parse(l) as { event: string }).filter((e) => e.event === 'retention_pruned');
      expect(pruned).toEqual([expect.objectContaining({ messages: 1, files: 1 })]);
      const page = await daemon.store.history({ room: 'lobby' }, { limit: 10 });
      expect(page.messages.map((m) => (m.kind === 'room' ? m.text : m.kind))).toEqual(['recent']);
      expect(await daemon.store.getFile('file-old-1')).toBeUndefined();
      expect(await daemon.store.getFile('file-new-1')).toBeDefined();
      expect(lines.join('\n')).not.toContain('secret old words');
    } finally {
      await daemon.shutdown('test');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('prunes at once when a reload shortens the retention (not at the next hourly pass)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hush-retention-'));
    const now = Date.now();
    loadOrCreateIdentity(dataPaths(dataDir).identity);
    const seed = SqliteStore.open(dataPaths(dataDir).database);
    seed.appendMessages([roomMsg('lobby', 'old words', now - 3 * DAY), roomMsg('lobby', 'recent', now - 1000)]);
    seed.close();
    await seed.background;
    const { stream: logStream, lines } = capturedLog();
    const config = {
      ...DEFAULT_CONFIG,
      limits: { ...DEFAULT_CONFIG.limits },
      host: '127.0.0.1',
      port: 0,
      dataDir,
      scryptN: 2 ** 12,
      logLevel: 'info' as const,
    };
    const daemon = await startDaemon({ ...config }, { logStream });
    try {
      expect((await daemon.store.history({ room: 'lobby' }, { limit: 10 })).messages).toHaveLength(2);
      daemon.reload({ ...config, retentionMs: 2 * DAY });
      await until(() => lines.some((l) => l.includes('"retention_pruned"')), 'a retention pass after the reload');
      expect(lines.find((l) => l.includes('"retention_pruned"'))).toContain('"messages":1');
      const page = await daemon.store.history({ room: 'lobby' }, { limit: 10 });
      expect(page.messages.map((m) => (m.kind === 'room' ? m.text : m.kind))).toEqual(['recent']);
    } finally {
      await daemon.shutdown('test');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
