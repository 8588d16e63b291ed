// Temp directories, SDK clients and raw clients for one test file, all released by cleanup().
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HushClient, type ClientEvents, type ClientPaths, type ConnectOptions } from '@hush/client';
export { nextEvent } from '../helpers-net/sdk.js';
import { RawClient, type RawConnectOptions } from './raw-client.js';

export interface ServerAddress { host: string; port: number; fingerprint: string }

export class AppFixture {
  private readonly dirs: string[] = [];
  private readonly clients: HushClient[] = [];
  private readonly raws: RawClient[] = [];

  async dir(prefix = 'hush-app-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async paths(): Promise<ClientPaths> {
    const dir = await this.dir('hush-app-home-');
    return { configDir: join(dir, 'config'), dataDir: join(dir, 'data') };
  }

  async connect(server: ServerAddress, options: Partial<ConnectOptions> = {}): Promise<HushClient> {
    const client = await HushClient.connect({
      host: server.host, port: server.port, paths: options.paths ?? (await this.paths()),
      expectedFingerprint: server.fingerprint, timeoutMs: 5000, reconnect: false, ...options,
    });
    this.clients.push(client);
    return client;
  }

  /** A connected SDK client, registered as `name`. */
  async user(server: ServerAddress, name: string, options: Partial<ConnectOptions> = {}): Promise<HushClient> {
    const client = await this.connect(server, options);
    await client.register(name, passwordOf(name));
    return client;
  }

  async raw(server: { host: string; port: number }, opts: Partial<RawConnectOptions> = {}): Promise<RawClient> {
    const raw = await RawClient.connect({ host: server.host, port: server.port, ...opts });
    this.raws.push(raw);
    return raw;
  }

  /** A raw client registered as `name`. */
  async rawUser(server: { host: string; port: number }, name: string): Promise<RawClient> {
    const raw = await this.raw(server);
    const reply = await raw.register(name, passwordOf(name));
    if (reply.type !== 'welcome') throw new Error(`register ${name}: ${JSON.stringify(reply)}`);
    return raw;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await Promise.all(this.raws.splice(0).map((r) => r.close().catch(() => undefined)));
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

export function passwordOf(name: string): string {
  return `pw-${name}-correct-horse`;
}

/** Collects every `event` from now on. */
export function collect<K extends keyof ClientEvents & string>(client: HushClient, event: K): ClientEvents[K][0][] {
  const out: ClientEvents[K][0][] = [];
  client.on(event, ((...args: ClientEvents[K]) => out.push(args[0])) as (...args: ClientEvents[K]) => void);
  return out;
}
