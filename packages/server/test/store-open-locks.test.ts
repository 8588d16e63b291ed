// Opening hush.db again in one process must not take away the locks another connection of that
// process holds on it: POSIX drops every lock a process has on a file when any descriptor of it
// closes, so SqliteStore.open touches an existing file only through SQLite (which knows).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../src/store/index.js';

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Whether another process can read `file` now (false: a lock keeps it out). */
function readableElsewhere(file: string): boolean {
  const betterSqlite3 = createRequire(import.meta.url).resolve('better-sqlite3');
  const script = `const D = require(${JSON.stringify(betterSqlite3)});
    try { new D(${JSON.stringify(file)}, { timeout: 0 }).pragma('user_version'); console.log('read'); }
    catch (e) { console.log(e.code); }`;
  return spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 }).stdout.trim() === 'read';
}

describe('SqliteStore.open on a file this process has open', () => {
  it("leaves the other connection's lock in place", async () => {
    dir = mkdtempSync(join(tmpdir(), 'hush-open-locks-'));
    const file = join(dir, 'hush.db');
    const first = SqliteStore.open(file);
    first.close();
    await first.background;
    const holder = new Database(file);
    holder.pragma('locking_mode = EXCLUSIVE');
    holder.exec('BEGIN EXCLUSIVE; PRAGMA user_version = 7; COMMIT'); // held until close
    try {
      expect(readableElsewhere(file)).toBe(false);
      expect(() => SqliteStore.open(file)).toThrow(); // busy: the holder has it
      expect(readableElsewhere(file)).toBe(false); // and still has it
    } finally {
      holder.close();
    }
    expect(readableElsewhere(file)).toBe(true);
  });
});
