// Whether a data directory holds a Hush server. A mistyped or forgotten --data-dir must not turn
// into a new, empty server that nobody runs, and a hush.db lost beside its identity.key must not
// start an empty server under the old fingerprint.
import { statSync } from 'node:fs';
import type { HushdConfig } from './config.js';
import { ServerDataError } from './errors.js';
import { dataPaths } from './paths.js';

/** A 0-byte file (as a failed copy or a full disk leaves one) holds nothing. */
function fileState(file: string): 'missing' | 'empty' | 'present' {
  try {
    return statSync(file).size > 0 ? 'present' : 'empty';
  } catch (err) {
    // A file hushd cannot even look at is left to the open to report, in its own words.
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'present';
  }
}

function holdsData(file: string): boolean {
  return fileState(file) === 'present';
}

/** True when the data directory's hush.db holds a database (not missing, not 0 bytes). */
export function hasDatabase(dataDir: string): boolean {
  return holdsData(dataPaths(dataDir).database);
}

/** True when the data directory has its server's identity key. */
export function hasIdentity(dataDir: string): boolean {
  return holdsData(dataPaths(dataDir).identity);
}

/**
 * Throws unless the data directory's hush.db holds a database: what every admin command on
 * SQLite (and `hushd import`, whose source it is) needs before it opens, or creates, anything.
 */
export function requireDatabase(dataDir: string): void {
  const { database } = dataPaths(dataDir);
  const state = fileState(database);
  if (state === 'present') return;
  if (hasIdentity(dataDir)) throw lostDatabase(database);
  throw new ServerDataError(
    `no Hush server data in ${dataDir} (${state === 'missing' ? 'no hush.db' : 'hush.db is empty'}): check --data-dir, or start hushd there once first`,
  );
}

/**
 * What a start on SQLite checks first: hush.db missing or empty beside an existing identity.key is
 * a server whose database was lost (a restore that forgot it, a failed copy), not a new server.
 */
export function refuseLostDatabase(config: Pick<HushdConfig, 'dataDir' | 'store'>): void {
  if (config.store !== null) return;
  const { database } = dataPaths(config.dataDir);
  if (!holdsData(database) && hasIdentity(config.dataDir)) throw lostDatabase(database);
}

/**
 * What a start on SQLite checks once the database is open: identity.key gone beside a hush.db that
 * holds accounts is a server whose key was lost. A new key would make every client that pinned
 * the old one refuse this server, so nothing is created.
 */
export async function refuseLostIdentity(
  config: Pick<HushdConfig, 'dataDir' | 'store'>,
  store: { listUsers(page?: { limit?: number }): Promise<readonly unknown[]> },
): Promise<void> {
  if (config.store !== null || hasIdentity(config.dataDir)) return;
  if ((await store.listUsers({ limit: 1 })).length === 0) return;
  throw lostIdentity(config.dataDir);
}

/** identity.key gone beside a hush.db: the clients pinned the lost key, so no new one is made. */
function lostIdentity(dataDir: string): ServerDataError {
  const { identity, database } = dataPaths(dataDir);
  return new ServerDataError(
    `${identity} is missing but ${database} holds a server: restore identity.key from a backup (every client ` +
      'pinned its fingerprint and would refuse a new one), or move hush.db away to start a new server',
  );
}

/** `hushd fingerprint` of a PostgreSQL node without its identity.key: a new one would match no node. */
export function missingIdentity(dataDir: string): ServerDataError {
  return new ServerDataError(
    `no Hush server identity in ${dataDir} (no identity.key): check --data-dir, or start hushd there once first ` +
      '(every node of a cluster has the same identity.key: copy it from another node)',
  );
}

function lostDatabase(database: string): ServerDataError {
  return new ServerDataError(
    `${database} is missing or empty but this data directory has a server identity (identity.key): ` +
      'restore hush.db from a backup, or move identity.key away to start a new server',
  );
}
