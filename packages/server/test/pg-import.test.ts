// `hushd import`: a data directory's SQLite database, filled as a server fills it, copied into
// PostgreSQL; every table compared row by row, then used through the PostgreSQL store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAdminArgs, runAdmin, type AdminIO } from '../src/admin.js';
import { resolveConfig } from '../src/config.js';
import { PostgresStore } from '../src/store/postgres.js';
import { PG_TABLES } from '../src/store/postgres-schema.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { NewMessage } from '../src/store/types.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

let server: TestPostgres;
let dir: string;
beforeAll(async () => {
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'hush-import-'));
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What a server that ran a while leaves behind: every table holds rows, with the awkward cases. */
function fill(store: SqliteStore): void {
  const users = ['alice', 'bob', 'carol', 'dave', 'erin'];
  users.forEach((u, i) => store.createUser(u, `scrypt$16384$8$1$salt${i}$hash${i}`, i === 0 ? 'admin' : 'user', 1_700_000_000_000 + i));
  store.createUser('newbie', null, 'user', 1_700_000_000_100);
  store.setUserBan('dave', 1_900_000_000_000, 'spam');
  store.setUserBan('erin', Number.POSITIVE_INFINITY, 'forever: "quotes" and \\ backslashes');
  for (const [i, u] of users.entries()) {
    store.upsertDevice({ user: u, signKey: `sign-${u}-1`, boxKey: `box-${u}-1`, signature: `sig-${u}-1` }, 1_700_000_001_000 + i);
  }
  store.upsertDevice({ user: 'alice', signKey: 'sign-alice-2', boxKey: 'box-alice-2', signature: 'sig-alice-2' }, 1_700_000_002_000);
  store.setSignedPrekey('alice', 'sign-alice-1', { id: 7, createdAt: 1_700_000_002_500, publicKey: 'spk-alice', signature: 'spk-sig' });
  store.addOneTimePrekeys('alice', 'sign-alice-1', [
    { id: 1, publicKey: 'otk-1' },
    { id: 2, publicKey: 'otk-2' },
    { id: 3, publicKey: 'otk-3' },
  ]);
  store.takeOneTimePrekey('alice', 'sign-alice-1');
  store.createInvite('invite-used', 'alice', 1_700_000_003_000);
  store.createInvite('invite-free', null, 1_700_000_003_001);
  store.consumeInvite('invite-used', 'carol', 1_700_000_003_500);
  store.createRoom('lobby', '', null, 1_700_000_000_000, 'open');
  store.createRoom('dev', 'code and ünïcödé 🎉', 'alice', 1_700_000_000_500, 'open');
  store.createRoom('quiet', 'to be left', 'bob', 1_700_000_000_600, 'e2e');
  for (const u of users) store.addMember('lobby', u, u === 'alice' ? 'owner' : 'member');
  store.addMember('dev', 'alice', 'owner');
  store.addMember('dev', 'bob', 'op');
  store.addMember('dev', 'carol', 'member');
  store.setMute('dev', 'carol', 1_800_000_000_000);
  store.addMember('quiet', 'bob', 'owner');
  store.addMember('quiet', 'carol', 'member');
  store.setMute('quiet', 'carol', Number.POSITIVE_INFINITY);
  store.removeMember('quiet', 'carol'); // a departure, with its mute
  const batch: NewMessage[] = [];
  for (let i = 0; i < 300; i++) {
    const from = users[i % 4]!;
    if (i % 5 === 0)
      batch.push({
        kind: 'dm',
        ts: 1_700_000_010_000 + i,
        from,
        to: users[(i + 1) % 4]!,
        envelope: `sealed-${i}-${'x'.repeat(i % 50)}`,
        key: `k-${i}`,
      });
    else
      batch.push({
        kind: 'room',
        ts: 1_700_000_010_000 + i,
        from,
        room: i % 3 ? 'lobby' : 'dev',
        text: `line ${i}\nwith 'quotes' ünï 🎉`,
        action: i % 7 === 0,
        ...(i % 2 ? { key: `k-${i}` } : {}),
      });
  }
  batch.push({ kind: 'room', ts: 1_700_000_010_300, from: 'bob', room: 'quiet', text: '', action: false, envelope: '4gABAgMEBQYH' });
  const stored = store.appendMessages(batch);
  // A reply, an edit of it, a reaction, and a message deleted (redacted) by its author.
  const target = stored[1]!.id;
  const [reply] = store.appendMessages([
    {
      kind: 'room',
      ts: 1_700_000_011_000,
      from: 'bob',
      room: 'lobby',
      text: 'a reply',
      action: false,
      ref: { kind: 'reply', msgId: target },
    },
  ]);
  store.appendMessages([
    {
      kind: 'room',
      ts: 1_700_000_011_001,
      from: 'bob',
      room: 'lobby',
      text: 'an edited reply',
      action: false,
      ref: { kind: 'edit', msgId: reply!.id },
    },
    {
      kind: 'room',
      ts: 1_700_000_011_002,
      from: 'alice',
      room: 'lobby',
      text: '',
      action: false,
      ref: { kind: 'react', msgId: target, emoji: '🎉', on: true },
    },
    {
      kind: 'room',
      ts: 1_700_000_011_003,
      from: 'bob',
      room: 'lobby',
      text: '',
      action: false,
      ref: { kind: 'delete', msgId: stored[2]!.id },
    },
  ]);
  store.redactRoomMessage('lobby', stored[2]!.id);
  // The newest message, pruned by retention (it is the oldest by time): the ids SQLite gave out
  // stay above every row left, and must after the move too.
  store.appendMessages([{ kind: 'room', ts: 5, from: 'bob', room: 'lobby', text: 'expired', action: false }]);
  store.pruneMessages(6);
  store.setReadMarker('alice', '#lobby', stored[100]!.id);
  store.setReadMarker('alice', '@bob', stored[5]!.id);
  store.setReadMarker('bob', '#dev', stored[299]!.id);
  store.advanceDeviceCursor('bob', 'sign-bob-1', stored[200]!.id);
  store.banAddress('10.0.0.1', 1_900_000_000_000, 'flood');
  store.banAddress('2001:db8::1', Number.POSITIVE_INFINITY, null);
  const bytes = new Uint8Array(256).map((_, i) => i);
  store.createFile({
    id: 'file-room-0001',
    from: 'alice',
    room: 'dev',
    to: null,
    name: 'all-bytes.bin',
    sha512: 'aa'.repeat(64),
    size: 512,
    createdAt: 1_700_000_020_000,
  });
  store.putFileChunk('file-room-0001', 0, bytes);
  store.putFileChunk('file-room-0001', 1, bytes.slice().reverse());
  store.completeFile('file-room-0001');
  store.createFile({
    id: 'file-dm-00002',
    from: 'bob',
    room: null,
    to: 'carol',
    name: null,
    sha512: null,
    size: 3,
    createdAt: 1_700_000_020_001,
  });
  store.putFileChunk('file-dm-00002', 0, new Uint8Array([0, 0, 255]));
  store.createFile({
    id: 'file-big-0003',
    from: 'carol',
    room: 'lobby',
    to: null,
    name: 'big.bin',
    sha512: null,
    size: 3 * 1024 * 1024,
    createdAt: 1_700_000_020_002,
  });
  for (let i = 0; i < 3; i++) store.putFileChunk('file-big-0003', i, new Uint8Array(1024 * 1024).fill(i + 1));
  store.completeFile('file-big-0003');
  store.markFileHandled('file-room-0001', 'bob', 'downloaded');
  store.markFileHandled('file-room-0001', 'carol', 'declined');
  // A ban given beside a server that had not yet enforced it.
  store.queueAdminRequest({ action: 'ban', user: 'erin', address: null, reason: 'spam' });
}

function io(password?: string): AdminIO & { lines: string[]; errors: string[] } {
  const lines: string[] = [];
  const errors: string[] = [];
  return {
    lines,
    errors,
    out: (l) => lines.push(l),
    err: (l) => errors.push(l),
    readPassword: () => (password === undefined ? Promise.reject(new Error('no password expected')) : Promise.resolve(password)),
  };
}

async function admin(argv: string[], out = io()): Promise<{ code: number; out: ReturnType<typeof io> }> {
  const { command, configArgv } = parseAdminArgs(argv);
  const config = resolveConfig({ argv: configArgv, env: {} });
  return { code: await runAdmin(command, config, out), out };
}

/** Every row of every table, ordered by its key, with BIGINTs as numbers (as SQLite gives them). */
async function pgTables(url: string): Promise<Record<string, unknown[][]>> {
  const client = new pg.Client({
    connectionString: url,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === 20 ? Number : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
    },
  });
  await client.connect();
  try {
    const out: Record<string, unknown[][]> = {};
    for (const { name, key } of PG_TABLES) {
      const res = await client.query({ text: `SELECT * FROM ${name} ORDER BY ${key.map((k) => `"${k}"`).join(', ')}`, rowMode: 'array' });
      out[name] = res.rows as unknown[][];
    }
    return out;
  } finally {
    await client.end();
  }
}

function sqliteTables(file: string): Record<string, unknown[][]> {
  const db = new Database(file, { readonly: true });
  try {
    const out: Record<string, unknown[][]> = {};
    for (const { name, key } of PG_TABLES)
      out[name] = db
        .prepare(`SELECT * FROM ${name} ORDER BY ${key.map((k) => `"${k}"`).join(', ')}`)
        .raw()
        .all() as unknown[][];
    return out;
  } finally {
    db.close();
  }
}

describe('hushd import (SQLite -> PostgreSQL)', () => {
  it('copies every row of every table, and the PostgreSQL store carries on where SQLite stopped', async () => {
    const dataDir = join(dir, 'data');
    const sqlite = SqliteStore.open(join(dataDir, 'hush.db'));
    fill(sqlite);
    const lastId = sqlite.lastMessageId();
    const history = sqlite.history({ room: 'lobby' }, { limit: 1000 });
    const dms = sqlite.directMessagesSince('bob', '0', 1000, { includeSent: true });
    sqlite.close();

    const url = await server.createDatabase();
    const run = await admin(['import', '--store', url, '--data-dir', dataDir]);
    expect(run.out.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.out.lines.join('\n')).toMatch(
      /^imported .*hush\.db into PostgreSQL: users 6, devices 6, device_cursors 6, signed_prekeys 1, one_time_prekeys 2, .*messages 305, .*file_chunks 6, file_handled 2, admin_requests 1$/,
    );
    expect(run.out.lines.join('\n')).not.toContain(url);

    const before = sqliteTables(join(dataDir, 'hush.db'));
    const after = await pgTables(url);
    for (const { name } of PG_TABLES) {
      expect(before[name]!.length, name).toBeGreaterThan(0);
      expect(after[name], name).toEqual(before[name]);
    }

    const store = await PostgresStore.open({ url });
    try {
      expect(await store.lastMessageId()).toBe(lastId);
      expect(await store.history({ room: 'lobby' }, { limit: 1000 })).toEqual(history);
      expect(await store.directMessagesSince('bob', '0', 1000, { includeSent: true })).toEqual(dms);
      expect(await store.getUser('erin')).toMatchObject({ bannedUntil: Number.POSITIVE_INFINITY });
      expect(await store.consumeInvite('invite-free', 'newbie', 1)).toBe(true);
      expect(await store.consumeInvite('invite-used', 'newbie', 1)).toBe(false);
      expect(await store.getDeparture('quiet', 'carol')).toEqual({ room: 'quiet', user: 'carol', mutedUntil: Number.MAX_SAFE_INTEGER });
      expect([...(await store.getFileChunk('file-room-0001', 0))!]).toEqual([...Array(256).keys()]);
      // A key sent before the move is still recognised; a new message continues the ids.
      const again = await store.appendMessages([
        { kind: 'room', ts: 1, from: 'bob', room: 'lobby', text: 'again', action: false, key: 'k-1' },
      ]);
      expect(again[0]).toMatchObject({ kind: 'repeat' });
      const next = await store.appendMessages([{ kind: 'room', ts: 1, from: 'bob', room: 'lobby', text: 'next', action: false }]);
      expect(next[0]!.id).toBe(String(Number(lastId) + 1));
      // The queued ban is still there to enforce, and new requests continue its ids.
      await store.queueAdminRequest({ action: 'unban', user: 'erin', address: null, reason: null });
      expect(await store.takeAdminRequests()).toEqual([
        { action: 'ban', user: 'erin', address: null, reason: 'spam' },
        { action: 'unban', user: 'erin', address: null, reason: null },
      ]);
      expect(await store.takeAdminRequests()).toEqual([]);
    } finally {
      await store.close();
    }

    // A second import would mix two servers' data: refused, with what to do.
    const twice = await admin(['import', '--store', url, '--data-dir', dataDir]);
    expect(twice.code).toBe(1);
    expect(twice.out.errors.join('\n')).toMatch(/already holds data .*import only into an empty one/);
  }, 60_000);

  it('hushd migrate creates the PostgreSQL schema once; a bad URL or an unreachable server is a clear error', async () => {
    const url = await server.createDatabase();
    const first = await admin(['migrate', '--store', url]);
    expect(first).toMatchObject({ code: 0 });
    expect(first.out.lines).toEqual([expect.stringMatching(/^PostgreSQL: schema version \d+ \(applied 1/)]);
    const second = await admin(['migrate', '--store', url]);
    expect(second.out.lines).toEqual([expect.stringMatching(/already up to date/)]);
    await expect(admin(['migrate', '--store', 'mysql://x'])).rejects.toThrow(/--store: expected a postgres:\/\/.*URL/);
    await expect(admin(['import', '--data-dir', join(dir, 'no-store')])).rejects.toThrow(/usage: hushd import --store/);
    const closed = await admin(['migrate', '--store', 'postgres://hush:secret-pw@127.0.0.1:1/none']);
    expect(closed.code).toBe(1);
    expect(closed.out.errors.join('\n')).toMatch(/^hushd: PostgreSQL: .*ECONNREFUSED/);
    expect(closed.out.errors.join('\n')).not.toContain('secret-pw');
  });

  it('the account, ban and invite commands work on a PostgreSQL store as on SQLite', async () => {
    const url = await server.createDatabase();
    const dataDir = join(dir, 'admin-on-pg');
    const on = (...argv: string[]) => ['--store', url, '--data-dir', dataDir, ...argv];
    expect(await admin(on('user', 'add', 'olga', '--admin'), io('a long enough password'))).toMatchObject({ code: 0 });
    expect(await admin(on('user', 'add', 'pete'), io('another long password'))).toMatchObject({ code: 0 });
    expect((await admin(on('user', 'add', 'OLGA'), io('a long enough password'))).code).toBe(1);
    expect((await admin(on('user', 'role', 'pete', 'admin'))).code).toBe(0);
    expect((await admin(on('ban', 'olga', '--reason', 'testing'))).code).toBe(0);
    expect((await admin(on('ban', '--address', '10.1.2.3'))).code).toBe(0);
    const invite = await admin(on('invite', 'create'));
    expect(invite.out.lines[0]).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const list = await admin(on('user', 'list'));
    expect(list.out.lines.slice(1).map((l) => l.split('\t').slice(0, 2))).toEqual([
      ['olga', 'admin'],
      ['pete', 'admin'],
      ['address 10.1.2.3 banned forever'],
    ]);
    expect(list.out.lines[1]).toMatch(/banned forever \(testing\)$/);
    // The rows are in PostgreSQL, where a node on this database reads them.
    const store = await PostgresStore.open({ url, poolSize: 1 });
    try {
      expect(await store.getUser('pete')).toMatchObject({ role: 'admin' });
      expect(await store.isAddressBanned('10.1.2.3', Date.now())).toBe(true);
      expect(await store.consumeInvite(invite.out.lines[0]!, 'pete', Date.now())).toBe(true);
    } finally {
      await store.close();
    }
    expect((await admin(on('unban', 'olga'))).code).toBe(0);
    expect((await admin(on('user', 'list'))).out.lines[1]).toMatch(/\tok$/);
  }, 60_000);
});
