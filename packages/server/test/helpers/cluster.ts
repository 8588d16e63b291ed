// Several in-process hushd nodes that behave as one server: one PostgreSQL database, one
// nats-server between them, one identity key (the first node's, copied into every other node's
// data directory before it starts). Every node and the nats-server are stopped by the test, or
// by `clusterFixture` after the calling file's tests.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { dataPaths } from '../../src/paths.js';
import type { RawClient } from '../../src/raw-client.js';
import { startTestServer, type TestServer, type TestServerOverrides } from '../../src/testing.js';
import { startTcpBalancer } from '../../../test-kit/src/tcp-balancer.js';
import { startNats, type TestNats } from './nats.js';
import { newDatabase } from './store-under-test.js';

export interface TestCluster {
  nodes: TestServer[];
  nats: TestNats;
  /** The PostgreSQL URL the nodes share. */
  store: string;
  /** Stops every node, then the nats-server. */
  stop(): Promise<void>;
}

/** Starts `count` nodes on `store` (a fresh database), joined by a nats-server of their own. */
export async function startCluster(store: string, count = 3, overrides: TestServerOverrides = {}): Promise<TestCluster> {
  const nats = await startNats();
  const nodes: TestServer[] = [];
  const dirs: string[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await nats.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  };
  try {
    for (let i = 0; i < count; i++) {
      const dataDir = mkdtempSync(join(tmpdir(), `hushd-node${i}-`));
      dirs.push(dataDir);
      if (i > 0) {
        mkdirSync(dataDir, { recursive: true, mode: 0o700 });
        copyFileSync(dataPaths(nodes[0]!.dataDir).identity, dataPaths(dataDir).identity);
      }
      nodes.push(await startTestServer({ store, bus: [nats.url], dataDir, ...overrides }));
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { nodes, nats, store, stop };
}

/**
 * A three-node cluster on `store` behind a round-robin TCP balancer, shaped as one TestServer: its
 * host, port and fingerprint are the balancer's (the cluster's one identity), so unchanged clients
 * spread over the nodes; `db` is the shared store; `server`, `config` and `metricsPort` are the first
 * node's. `stop()` stops the balancer, the nodes and the nats-server.
 */
export async function balancedCluster(store: string, overrides: TestServerOverrides = {}): Promise<TestServer> {
  const cluster = await startCluster(store, 3, overrides);
  const balancer = await startTcpBalancer(cluster.nodes).catch(async (error: unknown) => {
    await cluster.stop();
    throw error;
  });
  const first = cluster.nodes[0]!;
  let stopped: Promise<void> | undefined;
  return {
    host: balancer.host,
    port: balancer.port,
    fingerprint: first.fingerprint,
    dataDir: first.dataDir,
    config: first.config,
    server: first.server,
    db: first.db,
    get store() {
      return first.store;
    },
    healthy: () => cluster.nodes.every((n) => n.healthy()),
    metricsPort: first.metricsPort,
    stop: () => {
      stopped ??= balancer.stop().then(() => cluster.stop());
      return stopped;
    },
  };
}

export interface ClusterFixture {
  /** Started before the file's tests. */
  readonly cluster: TestCluster;
  /** Closes `clients` after the file's tests, before the cluster stops. */
  track(...clients: RawClient[]): void;
}

/** `count` nodes on a new database, started before the calling file's tests and stopped after them. */
export function clusterFixture(count: number, overrides: TestServerOverrides): ClusterFixture {
  const clients: RawClient[] = [];
  const fixture = {
    cluster: undefined as unknown as TestCluster,
    track: (...more: RawClient[]) => {
      clients.push(...more);
    },
  };
  beforeAll(async () => {
    fixture.cluster = await startCluster(await newDatabase(), count, overrides);
  }, 60_000);
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await fixture.cluster?.stop();
  });
  return fixture;
}
