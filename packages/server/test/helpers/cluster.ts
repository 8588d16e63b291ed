// Several in-process hushd nodes that behave as one server: one PostgreSQL database, one
// nats-server between them, one identity key (the first node's, copied into every other node's
// data directory before it starts). Every node and the nats-server are stopped by the test.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dataPaths } from '../../src/paths.js';
import { startTestServer, type TestServer, type TestServerOverrides } from '../../src/testing.js';
import { startNats, type TestNats } from './nats.js';

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
