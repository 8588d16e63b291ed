// Composes a running hushd from a configuration: storage, identity, accounts, the network server,
// metrics and retention. Signal handling lives in cli.ts so tests can run a daemon in-process.
import { rmSync } from 'node:fs';
import { Accounts } from './accounts.js';
import { NatsBus } from './bus/index.js';
import type { HushdConfig } from './config.js';
import { applyConfig, type ConfigChanges } from './config-reload.js';
import { lockDataDir } from './data-dir-lock.js';
import { loadOrCreateIdentity } from './identity-file.js';
import { createLogger, moreVerbose, type Logger } from './logger.js';
import { Metrics, startMetricsServer, type MetricsServer } from './metrics.js';
import { dataPaths } from './paths.js';
import { HushServer } from './server.js';
import { hasDatabase, refuseLostDatabase, refuseLostIdentity } from './server-data.js';
import { ensureServerRooms } from './server-rooms.js';
import type { AsyncStore } from './store/async-store.js';
import { openStore } from './store/open.js';
import type { SqliteStore } from './store/sqlite.js';
import { makeDirs } from './make-dirs.js';

export interface Daemon {
  server: HushServer;
  port: number;
  host: string;
  fingerprint: string;
  /** Port of the metrics server, when enabled. */
  metricsPort: number | null;
  /** The store the server works with (SQLite behind promises, or PostgreSQL). */
  store: AsyncStore;
  /** The SQLite store itself when that is the store (null on PostgreSQL). */
  sqlite: SqliteStore | null;
  /** What /healthz answers: serving, and the store reachable. */
  healthy(): boolean;
  logger: Logger;
  /**
   * Takes on the reloadable part of a freshly resolved configuration (limits, log level,
   * registration mode...; see config-reload.ts) without touching a connection, and logs which
   * keys changed.
   */
  reload(next: HushdConfig): ConfigChanges;
  /** Graceful stop, bounded by config.shutdownTimeoutMs; idempotent. Closes the store last. */
  shutdown(reason?: string): Promise<void>;
}

const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

/**
 * `config` stays the daemon's live configuration: the server reads it as it goes, and `reload`
 * updates it in place.
 */
export async function startDaemon(config: HushdConfig, opts: { logStream?: NodeJS.WritableStream; logger?: Logger } = {}): Promise<Daemon> {
  const logger = opts.logger ?? createLogger({ level: config.logLevel, ...(opts.logStream ? { stream: opts.logStream } : {}) });
  // Nodes on a bus deliver from one shared store: each node's own SQLite file would not be one.
  if (config.bus !== null && config.store === null) throw new Error('--bus needs a shared store: add --store postgres://...');
  refuseLostDatabase(config);
  makeDirs(config.dataDir);
  const paths = dataPaths(config.dataDir);
  // SQLite only: on PostgreSQL the data directory holds only identity.key, which nothing writes
  // after its creation, and the database arbitrates between nodes (see docs/cluster.md).
  const lock = config.store === null ? await lockDataDir(config.dataDir) : undefined;
  // A start that fails before serving (a port in use) must not leave a new server behind: its
  // hush.db and identity.key would make a mistyped --data-dir look like a real server to the admin
  // commands, `hushd fingerprint` and a backup script.
  const firstStart = config.store === null && !hasDatabase(config.dataDir);
  let createdIdentity = false;
  let opened: Awaited<ReturnType<typeof openStore>>;
  try {
    opened = await openStore(config, { logger });
  } catch (err) {
    if (firstStart) removeNewServer(paths, false);
    lock?.release();
    throw err;
  }
  const { store } = opened;
  let metricsServer: MetricsServer | undefined;
  let server: HushServer | undefined;
  let retentionTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  const healthy = () => !stopping && opened.available && server?.busState === 'connected';
  try {
    await refuseLostIdentity(config, store);
    const { identity, created } = loadOrCreateIdentity(paths.identity);
    createdIdentity = created;
    const fingerprint = identity.fingerprint();
    logger.info(created ? 'identity_created' : 'identity_loaded', { file: paths.identity, fingerprint });

    await ensureServerRooms(store, config);

    const metrics = new Metrics();
    // The live config itself: a reload's registration mode and password length apply at once.
    const accounts = new Accounts(store, config);
    const servers = config.bus;
    const busCa = config.busCa;
    server = new HushServer({
      host: config.host,
      port: config.port,
      store,
      identity,
      logger,
      metrics,
      accounts,
      config,
      ...(servers ? { bus: (handlers) => NatsBus.connect({ servers, ...(busCa ? { tls: { caFile: busCa } } : {}) }, handlers) } : {}),
    });
    const bound = await server.listen();
    logger.info('started', {
      host: bound.host,
      port: bound.port,
      fingerprint,
      dataDir: config.dataDir,
      store: config.store === null ? 'sqlite' : 'postgres',
      bus: config.bus === null ? 'local' : 'nats',
      registration: config.registration,
    });

    if (config.metricsPort !== null) {
      metricsServer = await startMetricsServer(metrics, { host: config.metricsHost, port: config.metricsPort, health: () => healthy() });
      logger.info('metrics_listening', { host: config.metricsHost, port: metricsServer.port });
    }

    const prune = async () => {
      try {
        const now = Date.now();
        const { messages, files } = await opened.prune(
          config.retentionMs === null ? null : now - config.retentionMs,
          now - config.fileRetentionMs,
        );
        if (messages + files > 0) logger.info('retention_pruned', { messages, files });
      } catch (err) {
        logger.error('retention_failed', { error: err });
      }
    };
    await prune();
    retentionTimer = setInterval(() => void prune(), RETENTION_INTERVAL_MS);
    retentionTimer.unref();

    let stopped: Promise<void> | undefined;
    const running = server;
    const shutdown = (reason = 'shutdown'): Promise<void> => {
      stopping = true;
      stopped ??= (async () => {
        logger.info('shutting_down', { reason, connections: running.connectionCount });
        clearInterval(retentionTimer);
        try {
          await withTimeout(running.shutdown(), config.shutdownTimeoutMs);
        } catch (err) {
          logger.warn('shutdown_incomplete', { error: err });
        }
        await metricsServer?.close().catch(() => undefined);
        await opened.close(); // SQLite: the checkpoint worker's files are let go before shutdown resolves
        lock?.release();
        logger.info('daemon_stopped', { reason });
      })();
      return stopped;
    };

    const reload = (next: HushdConfig): ConfigChanges => {
      const before = logger.level;
      const changes = applyConfig(config, next);
      // Said at the more verbose of the old and new levels, so a change of level is itself seen.
      logger.setLevel(moreVerbose(before, config.logLevel));
      logger.info('config_reloaded', { ...changes });
      if (changes.needRestart.length > 0) logger.warn('config_needs_restart', { keys: changes.needRestart });
      logger.setLevel(config.logLevel);
      // A shorter retention takes effect now, not at the next hourly pass.
      if (changes.applied.some((key) => key === 'retentionMs' || key === 'fileRetentionMs')) void prune();
      return changes;
    };

    return {
      server: running,
      port: bound.port,
      host: bound.host,
      fingerprint,
      metricsPort: metricsServer?.port ?? null,
      store,
      sqlite: opened.sqlite,
      healthy,
      logger,
      reload,
      shutdown,
    };
  } catch (err) {
    clearInterval(retentionTimer);
    await server?.shutdown().catch(() => undefined);
    await metricsServer?.close().catch(() => undefined);
    await opened.close().catch(() => undefined);
    if (firstStart) removeNewServer(paths, createdIdentity);
    else if (createdIdentity) rmSync(paths.identity, { force: true });
    lock?.release();
    throw err;
  }
}

/**
 * Removes what a failed first start created: hush.db with its WAL files, and identity.key when
 * this start made it. hushd.lock stays (it holds no data; removing it could split the lock of a
 * start that has it open), and so does the directory.
 */
function removeNewServer(paths: ReturnType<typeof dataPaths>, identity: boolean): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${paths.database}${suffix}`, { force: true });
  if (identity) rmSync(paths.identity, { force: true });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
