// Temp directories and SDK clients for one test file, all released by cleanup(), and waiters for
// the SDK's typed events. Generic over the client: the SDK's own tests run it on the SDK's source,
// other packages on its build.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { CutProxy } from './cut-proxy.js';

export interface ServerAddress {
  host: string;
  port: number;
  fingerprint?: string | undefined;
}

export interface ClientPaths {
  configDir: string;
  dataDir: string;
}

/** What the fixture needs of a client. */
export interface FixtureClient {
  register(name: string, password: string): Promise<unknown>;
  /** A login with this device's key (no password). */
  login(name: string): Promise<unknown>;
  close(): Promise<unknown>;
}

/** A test server whose store can make a user an admin (TestServer's `db`). */
export interface AdminableServer extends ServerAddress {
  db: { setServerRole(name: string, role: 'admin'): Promise<unknown> };
}

/** The connect options the fixture fills in. */
export interface BaseConnectOptions {
  host: string;
  port: number;
  paths?: ClientPaths | undefined;
  expectedFingerprint?: string | undefined;
  timeoutMs?: number | undefined;
}

/** `owner` creates the end-to-end room `room`, then each of `members` joins it, in order. */
export async function e2eRoom(
  room: string,
  owner: { createRoom(room: string, topic: string, kind: 'e2e'): Promise<unknown> },
  ...members: { joinRoom(room: string): Promise<unknown> }[]
): Promise<void> {
  await owner.createRoom(room, '', 'e2e');
  for (const member of members) await member.joinRoom(room);
}

/** The password `user()` registers `name` with. */
export function passwordOf(name: string): string {
  return `pw-${name}-secret`;
}

export class ClientFixture<C extends FixtureClient, O extends BaseConnectOptions> {
  private readonly dirs: string[] = [];
  private readonly clients: C[] = [];
  private readonly servers: { stop(): Promise<unknown> }[] = [];
  private readonly proxies: CutProxy[] = [];

  /** `open` connects a client (HushClient.connect); `defaults` go into every connect's options. */
  constructor(
    private readonly open: (options: O) => Promise<C>,
    private readonly defaults: Partial<O> = {},
  ) {}

  async dir(prefix = 'hush-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async paths(): Promise<ClientPaths> {
    const dir = await this.dir('hush-client-');
    return { configDir: join(dir, 'config'), dataDir: join(dir, 'data') };
  }

  /** Closes `client` at cleanup(). */
  track(client: C): C {
    this.clients.push(client);
    return client;
  }

  /** Stops `server` at cleanup(), once the clients are closed. */
  stopAfter<S extends { stop(): Promise<unknown> }>(server: S): S {
    this.servers.push(server);
    return server;
  }

  /** A CutProxy in front of `server` (closed at cleanup), and the address a client reaches it by. */
  async proxyTo(server: ServerAddress): Promise<{ proxy: CutProxy; via: ServerAddress }> {
    const proxy = await CutProxy.start({ host: server.host, port: server.port });
    this.proxies.push(proxy);
    return { proxy, via: { host: proxy.host, port: proxy.port, fingerprint: server.fingerprint } };
  }

  async connect(server: ServerAddress, options: Partial<O> = {}): Promise<C> {
    const merged = {
      host: server.host,
      port: server.port,
      expectedFingerprint: server.fingerprint,
      timeoutMs: 5000,
      ...this.defaults,
      ...options,
      paths: options.paths ?? (await this.paths()),
    } as O;
    return this.track(await this.open(merged));
  }

  /** A connected client, registered as `name` with passwordOf(name). */
  async user(server: ServerAddress, name: string, options: Partial<O> = {}): Promise<C> {
    const client = await this.connect(server, options);
    await client.register(name, passwordOf(name));
    return client;
  }

  /** A server admin: registered as `name`, made admin, and logged in again so its session has the role. */
  async admin(server: AdminableServer, name: string, options: Partial<O> = {}): Promise<C> {
    const paths = options.paths ?? (await this.paths());
    await (await this.user(server, name, { ...options, paths })).close();
    await server.db.setServerRole(name, 'admin');
    const again = await this.connect(server, { ...options, paths });
    await again.login(name);
    return again;
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.close().catch(() => undefined)));
    await Promise.all(this.proxies.splice(0).map((p) => p.close()));
    await Promise.all(this.servers.splice(0).map((s) => s.stop()));
    // A client may still be writing its files as it closes: retry while entries appear.
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })));
  }
}

type Listener<A extends unknown[]> = (...args: A) => void;

/** A typed event emitter such as HushClient. */
export interface EventSource<E extends { [K in keyof E]: unknown[] }> {
  on<K extends keyof E & string>(event: K, listener: Listener<E[K]>): unknown;
  off<K extends keyof E & string>(event: K, listener: Listener<E[K]>): unknown;
}

export interface EventWaiters<E extends { [K in keyof E]: unknown[] }> {
  /** Resolves with the first `event` whose arguments pass `match` (default: any), within `timeoutMs` (default 8 s). */
  nextEvent<K extends keyof E & string>(
    client: EventSource<E>,
    event: K,
    match?: (...args: E[K]) => boolean,
    timeoutMs?: number,
  ): Promise<E[K]>;
  /** Collects the first argument of every `event` from now on. */
  collect<K extends keyof E & string>(client: EventSource<E>, event: K): E[K][0][];
}

/** The waiters for one event map: `const { nextEvent, collect } = eventWaiters<ClientEvents>()`. */
export function eventWaiters<E extends { [K in keyof E]: unknown[] }>(): EventWaiters<E> {
  return {
    nextEvent<K extends keyof E & string>(
      client: EventSource<E>,
      event: K,
      match: (...args: E[K]) => boolean = () => true,
      timeoutMs = 8000,
    ): Promise<E[K]> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          client.off(event, listener);
          reject(new Error(`timed out waiting for ${event}`));
        }, timeoutMs);
        const listener = (...args: E[K]) => {
          if (!match(...args)) return;
          clearTimeout(timer);
          client.off(event, listener);
          resolve(args);
        };
        client.on(event, listener);
      });
    },

    collect<K extends keyof E & string>(client: EventSource<E>, event: K): E[K][0][] {
      const out: E[K][0][] = [];
      client.on(event, (...args: E[K]) => out.push(args[0]));
      return out;
    },
  };
}

/**
 * A server for the tests of the enclosing describe block (or file): started before them, stopped
 * after them; `fixture` is cleaned after each test. The returned object is filled with the started
 * server's fields in beforeAll, so tests can refer to it from the start.
 */
export function sharedServer<S extends { stop(): Promise<unknown> }>(
  start: () => Promise<S>,
  fixture?: { cleanup(): Promise<unknown> },
): S {
  const server = {} as S;
  beforeAll(async () => {
    Object.assign(server, await start());
  });
  if (fixture) afterEach(() => fixture.cleanup());
  afterAll(() => server.stop());
  return server;
}
