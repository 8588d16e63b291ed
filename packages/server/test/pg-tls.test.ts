// TLS to PostgreSQL as docs/cluster.md tells operators to set it up: sslmode=verify-full with the
// CA that signed the server's certificate connects (encrypted); a server whose certificate another
// CA signed, or that names another host, is refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresStore } from '../src/store/postgres.js';
import { makeCa, startPostgres, type TestPostgres } from './helpers/postgres.js';

let server: TestPostgres;
let other: string;
beforeAll(async () => {
  server = await startPostgres({ tls: true });
  other = mkdtempSync(join(tmpdir(), 'hush-ca-'));
}, 60_000);
afterAll(async () => {
  await server?.stop();
  rmSync(other, { recursive: true, force: true });
});

const withTls = (url: string, ca: string, host = '127.0.0.1', mode = 'verify-full') =>
  `${url.replace('127.0.0.1', host)}?sslmode=${mode}&sslrootcert=${encodeURIComponent(ca)}`;

describe('PostgreSQL over TLS (sslmode=verify-full)', () => {
  it('connects and encrypts with the right CA; refuses another CA or another host name', async () => {
    const url = withTls(await server.createDatabase(), server.caFile!);
    const store = await PostgresStore.open({ url });
    await store.createUser('alice', 'h', 'user', 1);
    expect(await store.getUser('alice')).toMatchObject({ name: 'alice' });
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
      expect(rows).toEqual([{ ssl: true }]);
    } finally {
      await client.end();
    }

    const wrongCa = await makeCa(other);
    await expect(PostgresStore.open({ url: withTls(server.url, wrongCa) })).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
    // The certificate names 127.0.0.1 only: the same server reached as "localhost" is not trusted.
    await expect(PostgresStore.open({ url: withTls(server.url, server.caFile!, 'localhost') })).rejects.toThrow(/altnames|does not match/i);
    // node-postgres checks as much under sslmode=require (the docs say so).
    await expect(PostgresStore.open({ url: withTls(server.url, wrongCa, '127.0.0.1', 'require') })).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
  }, 60_000);
});
