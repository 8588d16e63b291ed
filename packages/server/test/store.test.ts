import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asyncStore } from '../src/store/async-store.js';
import { SCHEMA_VERSION, SqliteStore } from '../src/store/index.js';
import { MIGRATIONS } from '../src/store/schema.js';
import { roomMsg, storeContract } from './helpers/store-contract.js';

describe('the store contract on SQLite', () => {
  storeContract(async () => asyncStore(SqliteStore.open(':memory:')));
});

describe('invites on disk', () => {
  it('does not keep invite codes in clear text', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hush-store-'));
    try {
      const file = join(dir, 'hush.db');
      const s = SqliteStore.open(file);
      s.createInvite('secret-invite-code', null, 1);
      s.close();
      const db = new Database(file, { readonly: true });
      const rows = db.prepare('SELECT * FROM invites').all();
      db.close();
      expect(JSON.stringify(rows)).not.toContain('secret-invite-code');
      expect(rows).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'hush-store-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A database file at schema `version` (its first migrations only) holding what `inserts` add. */
  function databaseAt(version: number, inserts: string[]): string {
    const file = join(dir, 'hush.db');
    const db = new Database(file);
    for (const migration of MIGRATIONS.slice(0, version)) db.exec(migration);
    db.pragma(`user_version = ${version}`);
    for (const insert of inserts) db.prepare(insert).run();
    db.close();
    return file;
  }

  it('keeps everything across a reopen of the same file, in WAL mode', () => {
    const file = join(dir, 'sub', 'hush.db');
    const a = SqliteStore.open(file);
    expect(a.schemaVersion).toBe(SCHEMA_VERSION);
    a.createUser('alice', 'h', 'admin', 1);
    a.createRoom('lobby', 'hello', null, 1, 'open');
    a.addMember('lobby', 'alice', 'owner');
    a.upsertDevice({ user: 'alice', signKey: 'S1', boxKey: 'B1', signature: 'G1' }, 1);
    const m = a.appendMessages([roomMsg('lobby', 'persisted')]);
    a.advanceDeviceCursor('alice', 'S1', m[0]!.id);
    a.close();
    a.close(); // idempotent

    const b = SqliteStore.open(file);
    try {
      expect(b.getUser('alice')?.role).toBe('admin');
      expect(b.getRoom('lobby')?.topic).toBe('hello');
      expect(b.getMember('lobby', 'alice')?.role).toBe('owner');
      expect(b.history({ room: 'lobby' }, { limit: 5 }).messages).toEqual(m);
      expect(b.getDeviceCursor('alice', 'S1')).toBe(m[0]!.id);
      expect(b.lastMessageId()).toBe(m[0]!.id);
      const db = new Database(file, { readonly: true });
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
    } finally {
      b.close();
    }
  });

  it('migrates a version 2 database: old messages keep no key, keyed sends are stored once', () => {
    const file = databaseAt(2, ["INSERT INTO messages (kind, ts, sender, room, body) VALUES ('room', 1, 'alice', 'lobby', 'old')"]);
    const s = SqliteStore.open(file);
    try {
      expect(s.schemaVersion).toBe(SCHEMA_VERSION);
      const first = s.appendMessages([{ ...roomMsg('lobby', 'new'), key: 'key-after-migration' }]);
      const again = s.appendMessages([{ ...roomMsg('lobby', 'new'), key: 'key-after-migration' }]);
      expect(again).toEqual([{ kind: 'repeat', id: first[0]!.id, ts: first[0]!.ts }]);
      expect(s.history({ room: 'lobby' }, { limit: 5 }).messages.map((m) => (m.kind === 'room' ? m.text : ''))).toEqual(['old', 'new']);
    } finally {
      s.close();
    }
  });

  it("migrates a version 1 database: each device inherits its account's delivery cursor", () => {
    const file = databaseAt(1, [
      "INSERT INTO users (name, role, created_at) VALUES ('alice', 'user', 1), ('bob', 'user', 1)",
      "INSERT INTO devices VALUES ('alice', 'S1', 'B', 'G', 1, 1), ('alice', 'S2', 'B', 'G', 1, 1), ('bob', 'S3', 'B', 'G', 1, 1)",
      "INSERT INTO delivery_cursors VALUES ('alice', 7)",
    ]);
    const s = SqliteStore.open(file);
    try {
      expect(s.schemaVersion).toBe(SCHEMA_VERSION);
      expect([s.getDeviceCursor('alice', 'S1'), s.getDeviceCursor('alice', 'S2'), s.getDeviceCursor('bob', 'S3')]).toEqual(['7', '7', '0']);
    } finally {
      s.close();
    }
  });

  it('migrates a version 6 database: queued admin requests stay, and a password request can be queued', () => {
    const file = databaseAt(6, ["INSERT INTO admin_requests (action, user, address, reason) VALUES ('ban', 'mallory', NULL, 'spam')"]);
    const s = SqliteStore.open(file);
    try {
      expect(s.schemaVersion).toBe(SCHEMA_VERSION);
      s.queueAdminRequest({ action: 'password', user: 'alice', address: null, reason: null });
      expect(s.takeAdminRequests()).toEqual([
        { action: 'ban', user: 'mallory', address: null, reason: 'spam' },
        { action: 'password', user: 'alice', address: null, reason: null },
      ]);
    } finally {
      s.close();
    }
  });

  it('refuses a database from a newer schema', () => {
    const file = join(dir, 'hush.db');
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => SqliteStore.open(file)).toThrow(expect.objectContaining({ code: 'SCHEMA_TOO_NEW' }));
  });
});
