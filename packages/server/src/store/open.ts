// Opening the store a configuration names: SQLite in the data directory (the default), or a
// PostgreSQL database that several nodes may share. Either way the server gets an AsyncStore.
import type { HushdConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { dataPaths } from '../paths.js';
import { asyncStore, type AsyncStore } from './async-store.js';
import { watchAvailability } from './availability.js';
import { PostgresStore } from './postgres.js';
import { SqliteStore } from './sqlite.js';

export interface OpenedStore {
  /** What the server and the admin commands work with. */
  readonly store: AsyncStore;
  /** The SQLite store itself (synchronous), when that is the store; null on PostgreSQL. */
  readonly sqlite: SqliteStore | null;
  /** Schema versions this opening applied (PostgreSQL; none when another node had, or on SQLite). */
  readonly migrated: readonly number[];
  /** False while the database cannot be reached (always true on SQLite). */
  readonly available: boolean;
  /** Retention: deletes messages older than `messagesBefore` (unless null) and files older than `filesBefore`. */
  prune(messagesBefore: number | null, filesBefore: number): Promise<{ messages: number; files: number }>;
  /** Closes the store (SQLite: once its checkpoint worker has let go of the files). */
  close(): Promise<void>;
}

/** A statement unanswered this long fails (the database is treated as unreachable) instead of holding a request. */
const QUERY_TIMEOUT_MS = 15_000;
/** While the database is unreachable, it is asked this often whether it is back (so health recovers without traffic). */
const PROBE_MS = 1000;

/** Opens `config.store`, or the data directory's hush.db; PostgreSQL is migrated first (safe beside other nodes). */
export async function openStore(
  config: Pick<HushdConfig, 'dataDir' | 'store'>,
  opts: { logger?: Pick<Logger, 'info' | 'warn' | 'error'>; poolSize?: number } = {},
): Promise<OpenedStore> {
  if (config.store === null) {
    const sqlite = SqliteStore.open(dataPaths(config.dataDir).database);
    // Retention too goes through asyncStore: its deletes wait out a WAL catch-up like every write.
    const store = asyncStore(sqlite);
    return {
      store,
      sqlite,
      migrated: [],
      available: true,
      prune: pruneOf(store),
      close: async () => {
        sqlite.close();
        await sqlite.background;
      },
    };
  }
  const { logger } = opts;
  const pg = await PostgresStore.open({
    url: config.store,
    ...(opts.poolSize !== undefined ? { poolSize: opts.poolSize } : {}),
    queryTimeoutMs: QUERY_TIMEOUT_MS,
    onIdleError: (error) => logger?.warn('store_connection_lost', { error }),
  });
  if (pg.migrated.length > 0) logger?.info('store_migrated', { versions: pg.migrated });
  const watched = watchAvailability(
    pg,
    (available, cause) => {
      if (available) logger?.info('store_available', {});
      else logger?.error('store_unavailable', { error: cause });
    },
    PROBE_MS,
  );
  return {
    store: watched.store,
    sqlite: null,
    migrated: pg.migrated,
    get available() {
      return watched.available;
    },
    prune: pruneOf(pg),
    close: async () => {
      watched.stop();
      await pg.close();
    },
  };
}

/** Retention over the store's calls. */
function pruneOf(store: Pick<AsyncStore, 'pruneMessages' | 'pruneFiles'>): OpenedStore['prune'] {
  return async (messagesBefore, filesBefore) => ({
    messages: messagesBefore === null ? 0 : await store.pruneMessages(messagesBefore),
    files: await store.pruneFiles(filesBefore),
  });
}
