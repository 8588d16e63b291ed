// What the server forgets is gone from hush.db's bytes too: text pruned by retention, and the text
// (and edits) of a room message deleted with a `delete` reference, are not left readable in the
// file's free space once the daemon has closed cleanly. A real daemon, a real socket, the file read whole.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerMessage } from '@hush/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG } from '../src/config.js';
import { startDaemon } from '../src/daemon.js';
import { loadOrCreateIdentity } from '../src/identity-file.js';
import { dataPaths } from '../src/paths.js';
import { registered } from '../src/raw-client.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { roomMsg } from './helpers/store-contract.js';

const DAY = 86_400_000;
let dataDir = '';
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const idOf = (m: ServerMessage): string => {
  if (m.type !== 'ack') throw new Error(`expected an ack, got ${JSON.stringify(m)}`);
  return m.msgId;
};

describe('deleted text on disk', () => {
  it('retention and a delete leave none of the text in hush.db after a clean close', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'hush-secure-delete-'));
    const { database } = dataPaths(dataDir);
    const now = Date.now();
    // A server that ran here once: its database and its identity (a start refuses accounts without their key).
    loadOrCreateIdentity(dataPaths(dataDir).identity);
    const seed = SqliteStore.open(database);
    seed.createUser('alice', null, 'user', now);
    // Enough old rows to fill whole pages (freed pages, not only cells within a page), and one row
    // on a page that keeps a recent message.
    seed.appendMessages(
      Array.from({ length: 300 }, (_, i) =>
        roomMsg('lobby', `PRUNED-SECRET-${String(i).padStart(3, '0')} ${'x'.repeat(150)}`, now - 3 * DAY),
      ),
    );
    seed.appendMessages([roomMsg('lobby', 'recent words stay', now - 1000)]);
    seed.close();
    await seed.background;
    expect(readFileSync(database).includes('PRUNED-SECRET-150')).toBe(true); // the check below can fail

    const daemon = await startDaemon({
      ...DEFAULT_CONFIG,
      host: '127.0.0.1',
      port: 0,
      dataDir,
      scryptN: 2 ** 12,
      retentionMs: 2 * DAY,
      openRooms: ['lobby'],
      logLevel: 'silent',
    });
    try {
      const bea = await registered(daemon.port, 'bea');
      try {
        const id = idOf(await bea.request({ type: 'send', room: 'lobby', text: 'DELETED-SECRET-plans' }));
        idOf(await bea.request({ type: 'send', room: 'lobby', text: 'EDITED-SECRET-plans', ref: { kind: 'edit', msgId: id } }));
        idOf(await bea.request({ type: 'send', room: 'lobby', ref: { kind: 'delete', msgId: id } }));
      } finally {
        await bea.close();
      }
    } finally {
      await daemon.shutdown('test');
    }

    // Checkpointed into hush.db at close (the worker's last fold may end a moment after): the file is all there is.
    for (let waited = 0; existsSync(`${database}-wal`) && waited < 10_000; waited += 50) await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(`${database}-wal`)).toBe(false);
    const bytes = readFileSync(database);
    for (const secret of ['PRUNED-SECRET-', 'DELETED-SECRET-plans', 'EDITED-SECRET-plans'])
      expect(bytes.includes(secret), secret).toBe(false);
    expect(bytes.includes('recent words stay')).toBe(true);
  });
});
