// Which store the server scenario suites run on: SQLite in the vitest project "sqlite", PostgreSQL
// in the projects "postgres" and "cluster" (vitest.config.ts runs the same files in all three).
// `testServer` is startTestServer on that store: on PostgreSQL each data directory gets a database
// of its own, the same one again when a test restarts a server on that directory. In "cluster" it is
// three nodes behind a TCP balancer (helpers/cluster.ts), except for a server on a given data
// directory: restarting a server on its directory is one node's affair, so that one is a single node.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { describe, inject, it } from 'vitest';
import { startTestServer, type TestServer, type TestServerOverrides } from '../../src/testing.js';
import { balancedCluster } from './cluster.js';
// Declares `pgUrl` and `cluster` in vitest's ProvidedContext (also for packages that import these helpers).
import type {} from './postgres-global.js';

const pgUrl = inject('pgUrl');
const clustered = inject('cluster') !== undefined;

export const STORE_UNDER_TEST: 'sqlite' | 'postgres' = pgUrl === undefined ? 'sqlite' : 'postgres';

/**
 * `it` for a test that asserts one node's own state (its store calls, its encodings, its per-node
 * limits and caches): declared in the projects "sqlite" and "postgres" only. In "cluster" a
 * user's connections land on different nodes, so such a test does not exist there.
 */
export const nodeLocalIt: typeof it = clustered ? ((() => undefined) as unknown as typeof it) : it;
/** `describe` for a group of such tests. */
export const nodeLocalDescribe: typeof describe = clustered ? ((() => undefined) as unknown as typeof describe) : describe;

const databases = new Map<string, string>();

/** A new empty database on the run's PostgreSQL server; its URL. */
export async function newDatabase(): Promise<string> {
  if (pgUrl === undefined) throw new Error('no PostgreSQL in this project (run the "postgres" vitest project)');
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: pgUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return pgUrl.replace(/\/[^/]*$/, `/${name}`);
}

/** The store override for a server on `dataDir` (undefined: a new temporary one) in this project. */
export async function storeFor(dataDir?: string): Promise<{ store?: string }> {
  if (STORE_UNDER_TEST === 'sqlite') return {};
  const known = dataDir === undefined ? undefined : databases.get(dataDir);
  const url = known ?? (await newDatabase());
  if (dataDir !== undefined) databases.set(dataDir, url);
  return { store: url };
}

/** startTestServer on the store under test; in the project "cluster", three nodes unless a data directory is given. */
export async function testServer(overrides: TestServerOverrides = {}): Promise<TestServer> {
  if (clustered && overrides.dataDir === undefined) return balancedCluster(await newDatabase(), overrides);
  return startTestServer({ ...(await storeFor(overrides.dataDir)), ...overrides });
}
