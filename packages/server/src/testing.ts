// What other packages' tests use (`@hush/server/testing`): startTestServer, a real hushd
// (startDaemon) on 127.0.0.1 port 0 in a temporary data directory, with fast password hashing,
// silent logs and no per-address connection limit to speak of (on SQLite, or on PostgreSQL with
// `store: 'postgres://...'`); and RawClient, the raw protocol client.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_CONFIG, type HushdConfig } from './config.js';
import { startDaemon } from './daemon.js';
import type { HushServer } from './server.js';
import type { AsyncStore } from './store/async-store.js';
import type { Store } from './store/types.js';

export { directEnvelope, RawClient, registered, selfEnvelope, TEST_PASSWORD } from './raw-client.js';
export type { RawClientOptions, ClientRequest } from './raw-client.js';

export interface TestServer {
  host: string;
  port: number;
  fingerprint: string;
  dataDir: string;
  config: HushdConfig;
  server: HushServer;
  /** The store the server runs on, SQLite or PostgreSQL alike (every call a promise). */
  db: AsyncStore;
  /** The SQLite store itself, synchronous; a test server on PostgreSQL throws when asked for it (use `db`). */
  readonly store: Store;
  /** What the daemon's /healthz answers. */
  healthy(): boolean;
  /** Port of GET /metrics and /healthz, when the overrides enabled it (metricsPort: 0). */
  metricsPort: number | null;
  /** Shutdown + close the store; removes the data directory only if this helper created it. */
  stop(): Promise<void>;
}

export type TestServerOverrides = Partial<Omit<HushdConfig, 'limits'>> & { limits?: Partial<HushdConfig['limits']> };

export async function startTestServer(overrides: TestServerOverrides = {}): Promise<TestServer> {
  const created = overrides.dataDir === undefined;
  const dataDir = overrides.dataDir ?? mkdtempSync(join(tmpdir(), 'hushd-test-'));
  const config: HushdConfig = {
    ...DEFAULT_CONFIG,
    host: '127.0.0.1',
    port: 0,
    logLevel: 'silent',
    scryptN: 2 ** 12,
    ...overrides,
    dataDir,
    // Every test client connects from loopback: the per-address limit would count them all as one peer.
    limits: { ...DEFAULT_CONFIG.limits, maxConnectionsPerAddress: 1000, ...overrides.limits },
  };
  try {
    const daemon = await startDaemon(config);
    let stopped: Promise<void> | undefined;
    return {
      host: daemon.host,
      port: daemon.port,
      fingerprint: daemon.fingerprint,
      dataDir,
      config,
      server: daemon.server,
      db: daemon.store,
      get store(): Store {
        if (!daemon.sqlite) throw new Error('this test server runs on PostgreSQL: use its `db` (every call a promise)');
        return daemon.sqlite;
      },
      healthy: daemon.healthy,
      metricsPort: daemon.metricsPort,
      stop: () => {
        stopped ??= daemon.shutdown('test').finally(() => {
          if (created) rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
        });
        return stopped;
      },
    };
  } catch (error) {
    if (created) rmSync(dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    throw error;
  }
}
