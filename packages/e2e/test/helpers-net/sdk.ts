// SDK clients for the network attacks: temp client paths, cleanup, and event helpers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HushClient, type ChatMessage, type ClientEvents, type ClientPaths, type ConnectOptions } from '@hush/client';

export interface Endpoint {
  host: string;
  port: number;
}

export class SdkFixture {
  private readonly dirs: string[] = [];
  private readonly clients: HushClient[] = [];

  async paths(): Promise<ClientPaths> {
    const dir = await mkdtemp(join(tmpdir(), 'hush-net-'));
    this.dirs.push(dir);
    return { configDir: join(dir, 'config'), dataDir: join(dir, 'data') };
  }

  async dir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'hush-net-'));
    this.dirs.push(dir);
    return dir;
  }

  async connect(at: Endpoint, fingerprint: string | undefined, options: Partial<ConnectOptions> = {}): Promise<HushClient> {
    const client = await HushClient.connect({
      host: at.host,
      port: at.port,
      paths: options.paths ?? (await this.paths()),
      expectedFingerprint: fingerprint,
      timeoutMs: 5000,
      ...options,
    });
    this.clients.push(client);
    return client;
  }

  /** A connected, registered user. */
  async user(at: Endpoint, fingerprint: string, name: string, options: Partial<ConnectOptions> = {}): Promise<HushClient> {
    const client = await this.connect(at, fingerprint, options);
    await client.register(name, `pw-${name}-long-secret`);
    return client;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
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

/** Every chat message the client emits from now on. */
export function collectMessages(client: HushClient): ChatMessage[] {
  const out: ChatMessage[] = [];
  client.on('message', (m) => out.push(m));
  return out;
}

/** Polls `check` until it holds (bounded). */
export async function until(check: () => boolean, timeoutMs = 8000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
