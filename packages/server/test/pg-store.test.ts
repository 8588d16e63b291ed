// The PostgreSQL store against a throwaway server: the same contract as SQLite, then what only a
// shared database has to get right (nodes migrating at once, a restart under the pool, two nodes
// appending at once).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/store/postgres.js';
import { PG_SCHEMA_VERSION } from '../src/store/postgres-schema.js';
import type { NewMessage } from '../src/store/types.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';
import { storeContract } from './helpers/store-contract.js';

let server: TestPostgres;
beforeAll(async () => {
  server = await startPostgres();
}, 60_000);
afterAll(() => server?.stop());

async function freshStore(): Promise<PostgresStore> {
  return PostgresStore.open({ url: await server.createDatabase(), poolSize: 4 });
}

async function query<R>(url: string, sql: string): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as R[];
  } finally {
    await client.end();
  }
}

describe('the store contract on PostgreSQL', () => {
  storeContract(freshStore);
});

describe('PostgreSQL store', () => {
  it('does not keep invite codes in clear text', async () => {
    const url = await server.createDatabase();
    const store = await PostgresStore.open({ url });
    try {
      await store.createInvite('secret-invite-code', null, 1);
      const rows = await query(url, 'SELECT * FROM invites');
      expect(rows).toHaveLength(1);
      expect(JSON.stringify(rows)).not.toContain('secret-invite-code');
    } finally {
      await store.close();
    }
  });

  it('migrates an empty database once when two nodes open it at the same moment', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([PostgresStore.open({ url }), PostgresStore.open({ url })]);
    try {
      // Each version applied by exactly one of them; the other found it done.
      expect([...a.migrated, ...b.migrated].sort()).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
      const versions = await query<{ version: number }>(url, 'SELECT version FROM schema_migrations ORDER BY version');
      expect(versions.map((v) => v.version)).toEqual(Array.from({ length: PG_SCHEMA_VERSION }, (_, i) => i + 1));
      await a.createUser('alice', 'h', 'user', 1);
      expect(await b.getUser('alice')).toMatchObject({ name: 'alice' });
      // A third node later has nothing to do.
      const c = await PostgresStore.open({ url });
      expect(c.migrated).toEqual([]);
      await c.close();
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('refuses a database from a newer schema', async () => {
    const url = await server.createDatabase();
    (await PostgresStore.open({ url })).close();
    await query(url, `INSERT INTO schema_migrations (version, applied_at) VALUES (${PG_SCHEMA_VERSION + 1}, 0)`);
    await expect(PostgresStore.open({ url })).rejects.toMatchObject({ code: 'SCHEMA_TOO_NEW' });
  });

  it('gives two nodes appending at once one order: ids unique, committed in id order, keys stored once', async () => {
    const url = await server.createDatabase();
    const [a, b] = await Promise.all([PostgresStore.open({ url }), PostgresStore.open({ url })]);
    try {
      const batch = (node: string, round: number): NewMessage[] =>
        Array.from({ length: 20 }, (_, i) => ({
          kind: 'room',
          ts: round,
          from: node,
          room: 'lobby',
          text: `${node}-${round}-${i}`,
          action: false,
        }));
      const rounds = Array.from({ length: 15 }, (_, r) => r);
      // While appends run, a reader keeps checking that what it sees has no hole below its newest id.
      let reading = true;
      const holes: string[] = [];
      const reader = (async () => {
        while (reading) {
          const seen = (await a.history({ room: 'lobby' }, { limit: 1000 })).messages.map((m) => Number(m.id));
          seen.forEach((id, i) => {
            if (i > 0 && id !== seen[i - 1]! + 1) holes.push(`${seen[i - 1]} -> ${id}`);
          });
        }
      })();
      const results = await Promise.all([
        ...rounds.map((r) => a.appendMessages(batch('a', r))),
        ...rounds.map((r) => b.appendMessages(batch('b', r))),
      ]);
      reading = false;
      await reader;
      const ids = results.flat().map((m) => Number(m.id));
      expect(new Set(ids).size).toBe(600);
      expect(Math.min(...ids)).toBe(1);
      expect(Math.max(...ids)).toBe(600);
      expect(holes).toEqual([]);
      // Each batch's rows are consecutive and in batch order.
      for (const stored of results) expect(stored.map((m) => Number(m.id) - Number(stored[0]!.id))).toEqual([...Array(20).keys()]);
      // The same key sent through both nodes at once is stored once.
      const keyed: NewMessage = { kind: 'room', ts: 1, from: 'alice', room: 'lobby', text: 'once', action: false, key: 'key-race-1' };
      const [x, y] = await Promise.all([a.appendMessages([keyed]), b.appendMessages([keyed])]);
      expect([x[0]!.kind, y[0]!.kind].sort()).toEqual(['repeat', 'room']);
      expect(x[0]!.id).toBe(y[0]!.id);
      expect(await b.lastMessageId()).toBe('601');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps working after PostgreSQL restarts under it (the pool replaces its dead connections)', async () => {
    const idleErrors: Error[] = [];
    const url = await server.createDatabase();
    const store = await PostgresStore.open({ url, poolSize: 3, onIdleError: (err) => idleErrors.push(err) });
    try {
      await store.createUser('alice', 'h', 'user', 1);
      // Fill the pool with open connections, so the restart cuts them.
      await Promise.all([store.getUser('alice'), store.listUsers(), store.lastMessageId()]);
      const before = await store.appendMessages([{ kind: 'room', ts: 1, from: 'alice', room: 'lobby', text: 'before', action: false }]);
      await server.restart();
      const after = await store.appendMessages([{ kind: 'room', ts: 2, from: 'alice', room: 'lobby', text: 'after', action: false }]);
      expect(Number(after[0]!.id)).toBeGreaterThan(Number(before[0]!.id));
      expect((await store.history({ room: 'lobby' }, { limit: 10 })).messages.map((m) => (m.kind === 'room' ? m.text : ''))).toEqual([
        'before',
        'after',
      ]);
      expect(await store.getUser('alice')).toMatchObject({ name: 'alice' });
      expect(idleErrors.length).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  }, 60_000);
});
