import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HushClient } from '../src/client.js';
import type { ClientPaths } from '../src/paths.js';
import type { ClientEvents, ConnectOptions } from '../src/types.js';

/** Temp dirs removed by cleanup(); clients closed by cleanup() too. */
export class Fixture {
  private readonly dirs: string[] = [];
  private readonly clients: HushClient[] = [];

  async paths(): Promise<ClientPaths> {
    const dir = await mkdtemp(join(tmpdir(), 'hush-client-'));
    this.dirs.push(dir);
    return { configDir: join(dir, 'config'), dataDir: join(dir, 'data') };
  }

  async dir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'hush-test-'));
    this.dirs.push(dir);
    return dir;
  }

  track(client: HushClient): HushClient {
    this.clients.push(client);
    return client;
  }

  async connect(server: { host: string; port: number; fingerprint: string }, options: Partial<ConnectOptions> = {}): Promise<HushClient> {
    const client = await HushClient.connect({
      host: server.host,
      port: server.port,
      paths: options.paths ?? (await this.paths()),
      expectedFingerprint: server.fingerprint,
      timeoutMs: 5000,
      ...options,
    });
    return this.track(client);
  }

  /** A connected, registered user. */
  async user(server: { host: string; port: number; fingerprint: string }, name: string, options: Partial<ConnectOptions> = {}): Promise<HushClient> {
    const client = await this.connect(server, options);
    await client.register(name, `pw-${name}-secret`);
    return client;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })));
  }
}

/** Resolves with the first `event` whose arguments pass `match`. */
export function nextEvent<K extends keyof ClientEvents & string>(
  client: HushClient,
  event: K,
  match: (...args: ClientEvents[K]) => boolean = () => true,
  timeoutMs = 8000,
): Promise<ClientEvents[K]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(event, listener);
      reject(new Error(`timed out waiting for ${event}`));
    }, timeoutMs);
    const listener = (...args: ClientEvents[K]) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      client.off(event, listener);
      resolve(args);
    };
    client.on(event, listener);
  });
}

/** Collects every `event` from now on. */
export function collect<K extends keyof ClientEvents & string>(client: HushClient, event: K): ClientEvents[K][0][] {
  const out: ClientEvents[K][0][] = [];
  client.on(event, ((...args: ClientEvents[K]) => out.push(args[0])) as (...args: ClientEvents[K]) => void);
  return out;
}
