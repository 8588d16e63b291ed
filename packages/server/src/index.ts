// @hush/server public API.
export { HushServer } from './server.js';
export { startTestServer } from './testing.js';
export { startDaemon } from './daemon.js';
export { tuneRuntime, SERVER_V8_FLAGS } from './runtime.js';
export { SqliteStore } from './store/sqlite.js';
export type { CheckpointStats } from './store/wal-checkpointer.js';
export { PostgresStore } from './store/postgres.js';
export { asyncStore } from './store/async-store.js';
export { openStore } from './store/open.js';
export { Accounts } from './accounts.js';
export { resolveConfig, DEFAULT_CONFIG } from './config.js';
export { createLogger } from './logger.js';
export { Metrics, startMetricsServer } from './metrics.js';
export { normalizeUsername, usernameSkeleton } from './usernames.js';

export type { ServerOptions } from './server.js';
export type { TestServer, TestServerOverrides } from './testing.js';
export type { Daemon } from './daemon.js';
export type { ConfigChanges } from './config-reload.js';
export type { HushdConfig, Limits, RegistrationMode } from './config.js';
export type { Logger, LogLevel } from './logger.js';
export type { MetricName } from './metrics.js';
export type * from './store/types.js';
export type { AsyncStore } from './store/async-store.js';
export type { OpenedStore } from './store/open.js';
export type { PostgresStoreOptions } from './store/postgres.js';
