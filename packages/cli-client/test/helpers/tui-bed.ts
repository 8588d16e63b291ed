// The bed the tmux tests run on: a real hushd per test (startTestServer, open registration), the
// `hush` processes and SDK clients a test starts, all stopped after it.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HushClient } from '@hush/client';
import { startTestServer, type TestServer, type TestServerOverrides } from '@hush/server/testing';
import { CutProxy, HUSH_CLI, HushTui, removeWhileWritten } from '@hush/test-kit';
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';

export const PASSWORD = 'correct horse battery';

/** Ctrl+C, and the process is gone with exit code 0 (its files written). */
export async function quit(tui: HushTui): Promise<void> {
  tui.keys('C-c');
  expect(await tui.exitCode()).toBe(0);
  tui.kill();
}

export class TuiBed {
  dataDir = '';
  private current: TestServer | null = null;
  private readonly tuis: HushTui[] = [];
  private readonly clients: HushClient[] = [];
  private readonly homes: string[] = [];
  private readonly proxies: CutProxy[] = [];

  private overrides: TestServerOverrides = {};

  /** Registers the vitest hooks that set the bed up and clear it for each test; `overrides` for its servers (e.g. openRooms). */
  static install(overrides: TestServerOverrides = {}): TuiBed {
    const bed = new TuiBed();
    bed.overrides = overrides;
    beforeAll(() => {
      if (!existsSync(HUSH_CLI)) throw new Error(`${HUSH_CLI} is missing: run \`pnpm build\` in packages/cli-client first`);
    });
    beforeEach(async () => {
      bed.dataDir = mkdtempSync(join(tmpdir(), 'hush-tui-server-'));
      bed.current = await startTestServer({ ...bed.overrides, dataDir: bed.dataDir, registration: 'open' });
    });
    afterEach(async () => {
      for (const t of bed.tuis.splice(0)) t.kill();
      for (const c of bed.clients.splice(0)) await c.close().catch(() => undefined);
      for (const p of bed.proxies.splice(0)) await p.close();
      // A killed hush may still be writing its files for a moment.
      for (const home of bed.homes.splice(0)) removeWhileWritten(home);
      await bed.current?.stop();
      bed.current = null;
      rmSync(bed.dataDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    });
    return bed;
  }

  get server(): TestServer {
    if (!this.current) throw new Error('no server running');
    return this.current;
  }

  /** Stops the server; restart() brings it back on the same port and data. */
  async stopServer(): Promise<void> {
    await this.server.stop();
  }

  async restart(registration: 'open' | 'invite' = 'open'): Promise<TestServer> {
    const port = this.server.port;
    this.current = await startTestServer({ ...this.overrides, dataDir: this.dataDir, port, registration });
    return this.current;
  }

  /** A `hush` in tmux (HUSH_PASSWORD set), killed after the test. */
  start(args: string[], opts: { password?: string; home?: string } = {}): HushTui {
    const tui = HushTui.start({ args, env: { HUSH_PASSWORD: opts.password ?? PASSWORD }, home: opts.home });
    this.tuis.push(tui);
    return tui;
  }

  /** A home kept across launches of `hush` (device keys, pins, state, local history), removed after the test. */
  keptHome(): string {
    const dir = mkdtempSync(join(tmpdir(), 'hush-tui-home-'));
    this.homes.push(dir);
    return dir;
  }

  /** `user` on the chat screen with the home `at`: registering on the first launch, logging in with its device key after. */
  launch(user: string, at: string, register: boolean): Promise<HushTui> {
    return this.onChatScreen(user, register ? ['--register'] : [], `${user} on the chat screen`, at);
  }

  /** `user` registered through the form, on the chat screen. */
  loggedIn(user: string): Promise<HushTui> {
    return this.onChatScreen(user, ['--register'], `${user} on the chat screen`);
  }

  /** `user`, registered before, logged in from a new device (a home of its own), on the chat screen. */
  newDevice(user: string): Promise<HushTui> {
    return this.onChatScreen(user, [], `${user}'s new device on the chat screen`);
  }

  /** `user` registered and on the chat screen through a CutProxy the test cuts, heals or stalls (closed after it). */
  async throughProxy(user: string): Promise<{ tui: HushTui; proxy: CutProxy }> {
    const proxy = await CutProxy.start({ host: '127.0.0.1', port: this.server.port });
    this.proxies.push(proxy);
    return { tui: await this.onChatScreen(user, ['--register'], `${user} on the chat screen`, undefined, proxy.port), proxy };
  }

  private async onChatScreen(user: string, extra: string[], what: string, home?: string, port = this.server.port): Promise<HushTui> {
    const tui = this.start(['--host', `127.0.0.1:${port}`, '--user', user, ...extra, '--login', '--fingerprint', this.server.fingerprint], {
      home,
    });
    await tui.waitFor((screen) => screen.includes('#lobby') && / connected /.test(screen), what);
    return tui;
  }

  /** alice and bob on the chat screen, alice having seen bob join #lobby. */
  async aliceAndBob(): Promise<{ alice: HushTui; bob: HushTui }> {
    const alice = await this.loggedIn('alice');
    const bob = await this.loggedIn('bob');
    await alice.waitFor('bob joined #lobby');
    return { alice, bob };
  }

  /** alice and bob in #quiet, a room alice created, where she muted bob: every line he sends there is refused. */
  async bobMutedInQuiet(): Promise<{ alice: HushTui; bob: HushTui }> {
    const alice = await this.loggedIn('alice');
    const bob = await this.loggedIn('bob');
    await alice.typeLine('/join #quiet');
    await alice.waitFor('#quiet did not exist: you created it');
    await bob.typeLine('/join #quiet');
    await alice.waitFor('bob joined #quiet');
    await alice.typeLine('/mute bob');
    await bob.waitFor('you were muted in #quiet by alice');
    return { alice, bob };
  }

  /** An SDK client logged in as server admin `name` (registered, made admin, logged in again), closed after the test. */
  async adminClient(name: string): Promise<HushClient> {
    const first = await this.sdkClient(name);
    await first.register(name, PASSWORD);
    await first.close();
    await this.server.db.setServerRole(name, 'admin');
    const admin = await this.sdkClient(name);
    await admin.login(name);
    return admin;
  }

  /** An SDK client (not registered) with its files in the server's temp dir, closed after the test. */
  /** An SDK client registered as `user` (with PASSWORD), closed after the test. */
  async sdkUser(user: string): Promise<HushClient> {
    const client = await this.sdkClient(user);
    await client.register(user, PASSWORD);
    return client;
  }

  async sdkClient(name: string): Promise<HushClient> {
    const client = await HushClient.connect({
      host: '127.0.0.1',
      port: this.server.port,
      expectedFingerprint: this.server.fingerprint,
      paths: { configDir: join(this.dataDir, `${name}-config`), dataDir: join(this.dataDir, `${name}-data`) },
    });
    this.clients.push(client);
    return client;
  }
}
