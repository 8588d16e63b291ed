// hush's whole app (login form, chat view, controller) on a fake terminal and a fake client: what
// the app-level tests type into and read.
import { afterEach } from 'vitest';
import { startApp, type ConnectRequest, type RunningApp, type SessionClient } from '../../src/app.js';
import type { Remembered } from '../../src/config.js';
import type { DirectList } from '../../src/direct-list.js';
import { FakeClient } from './fake-client.js';
import { FakeInput, FakeOutput, screenText, waitFor } from './fake-terminal.js';

/** A fake client that logs in and registers: the password "wrong" fails as the server would. */
export class FakeSession extends FakeClient implements SessionClient {
  loggedIn: Array<[string, string | undefined]> = [];
  registered: string[] = [];
  /** Accounts whose device key this computer holds for the server. */
  deviceKeys: string[] = [];
  hasDeviceFor(username: string): boolean {
    return this.deviceKeys.includes(username);
  }
  async register(username: string, _password: string, _opts: { invite?: string } = {}): Promise<void> {
    this.registered.push(username);
    this.user = username;
  }
  async login(username: string, password?: string): Promise<void> {
    if (password === 'wrong') throw Object.assign(new Error('bad credentials'), { code: 'AUTH_FAILED' });
    this.loggedIn.push([username, password]);
    this.user = username;
  }
}

export interface LaunchOptions {
  /** Default: every connection gets `session`. */
  connect?: (req: ConnectRequest) => Promise<SessionClient>;
  session?: FakeSession;
  password?: string;
  user?: string;
  autoLogin?: boolean;
  /** host:port (default 127.0.0.1:5555). */
  server?: string;
  register?: boolean;
  directs?: DirectList;
}

/** Starts the app; the caller quits it (`app.quit()`, then `await app.exited`). */
export function launchApp(opts: LaunchOptions = {}) {
  const input = new FakeInput();
  const output = new FakeOutput();
  const session = opts.session ?? new FakeSession();
  const requests: ConnectRequest[] = [];
  const remembered: Remembered[] = [];
  const app: RunningApp = startApp({
    input,
    output,
    terminal: 'xterm-256color',
    defaults: {
      host: opts.server?.split(':')[0] ?? '127.0.0.1',
      port: Number(opts.server?.split(':')[1] ?? 5555),
      user: opts.user ?? 'mia',
      register: opts.register ?? false,
      password: opts.password,
      autoLogin: opts.autoLogin ?? false,
    },
    connect:
      opts.connect ??
      (async (req) => {
        requests.push(req);
        return session;
      }),
    downloadsDir: '/tmp/dl',
    remember: (r) => {
      remembered.push(r);
    },
    ...(opts.directs ? { directs: opts.directs } : {}),
  });
  const screen = app.screen;
  const text = (): string => screenText(screen);
  return {
    app,
    input,
    output,
    session,
    requests,
    remembered,
    screen,
    text,
    type: (s: string): void => void input.write(s),
    shows: (s: string, timeoutMs = 8000) => waitFor(() => text().includes(s), `"${s}" on screen:\n${text()}`, timeoutMs),
    /** The bottom row: the input line. */
    inputLine: (): string => text().split('\n').at(-1) ?? '',
  };
}

/**
 * For one test file: `launch` starts the app (as launchApp), `inLobby` starts it logged in with
 * #lobby on screen; the app a test started is quit after it.
 */
export function appPerTest() {
  let app: RunningApp | null = null;
  afterEach(async () => {
    app?.quit();
    await app?.exited;
    app = null;
  });
  const launch = (opts: LaunchOptions = {}) => {
    const t = launchApp(opts);
    app = t.app;
    return t;
  };
  const inLobby = async () => {
    const t = launch({ password: 'pw', autoLogin: true });
    await t.shows('#lobby');
    return t;
  };
  return { launch, inLobby };
}
