// App wiring: login form -> connect (trust prompt) -> log in -> chat screen. Streams, the
// connector and paths are options so tests drive it with fakes and the CLI with the real SDK.
import type blessed from 'blessed';
import { DEFAULT_PORT, splitHostPort, type LoginDefaults } from './config.js';
import { ChatController } from './controller.js';
import { describeError, type ChatClient } from './sdk.js';
import { sanitize, stripControls } from './sanitize.js';
import { ChatView } from './view/chat-view.js';
import { LoginView, type LoginValues } from './view/login-view.js';
import { createScreen } from './view/screen.js';

export interface TrustRequest { host: string; port: number; fingerprint: string; shortFingerprint: string }

/** What the app needs beyond chatting: the session start. A HushClient satisfies it. */
export interface SessionClient extends ChatClient {
  readonly shortFingerprint: string;
  register(username: string, password: string): Promise<void>;
  login(username: string, password?: string): Promise<void>;
}

export interface ConnectRequest {
  host: string;
  port: number;
  expectedFingerprint?: string;
  trust: (prompt: TrustRequest) => Promise<boolean>;
}

export type Connector = (req: ConnectRequest) => Promise<SessionClient>;

export interface AppOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  /** Fatal messages after the screen is gone (default: nowhere). */
  errorOutput?: NodeJS.WritableStream;
  terminal?: string;
  defaults: LoginDefaults;
  connect: Connector;
  downloadsDir: string;
}

/** Errors that end the program instead of returning to the form. */
const FATAL = new Set(['SERVER_KEY_CHANGED']);

export interface RunningApp {
  /** Resolves with the exit code once the app has shut down. */
  exited: Promise<number>;
  screen: blessed.Widgets.Screen;
  /** Quit as if the user pressed Ctrl+C. */
  quit(): void;
}

export function startApp(opts: AppOptions): RunningApp {
  const screen = createScreen({ input: opts.input, output: opts.output, terminal: opts.terminal });
  let finish: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => { finish = resolve; });
  let client: SessionClient | null = null;
  let controller: ChatController | null = null;
  let chat: ChatView | null = null;
  let login: LoginView | null = null;
  let ending = false;

  const shutdown = async (code: number, message?: string): Promise<void> => {
    if (ending) return;
    ending = true;
    controller?.stop();
    chat?.destroy();
    login?.destroy();
    const c = client;
    client = null;
    if (c) await Promise.race([c.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    screen.destroy();
    if (message) opts.errorOutput?.write(message + '\n');
    finish(code);
  };
  const quit = (): void => { void shutdown(0); };

  const startChat = async (c: SessionClient): Promise<void> => {
    login?.destroy();
    login = null;
    const ctl = new ChatController({
      client: c,
      downloadsDir: opts.downloadsDir,
      ui: {
        bell: () => chat?.bell(),
        ask: (q, initial) => chat ? chat.modals.ask(q, initial) : Promise.resolve(null),
        confirm: (q) => chat ? chat.modals.confirm('hush', [sanitize(q)]) : Promise.resolve(false),
        quit,
      },
    });
    controller = ctl;
    chat = new ChatView(screen, ctl, quit);
    await ctl.start();
  };

  const submit = async (v: LoginValues): Promise<void> => {
    const view = login;
    if (!view) return;
    let hostPort: { host: string; port?: number };
    try {
      hostPort = splitHostPort(v.server);
    } catch (err) {
      view.showError(describeError(err).message);
      return;
    }
    if (hostPort.host === '' || v.user === '') {
      view.showError('server and username are required');
      return;
    }
    const port = hostPort.port ?? DEFAULT_PORT;
    view.setBusy(true, `connecting to ${hostPort.host}:${port}…`);
    let c: SessionClient | null = null;
    try {
      c = await opts.connect({
        host: hostPort.host,
        port,
        expectedFingerprint: opts.defaults.fingerprint,
        trust: (p) => view.modals.confirm('new server', [
          `First contact with ${sanitize(p.host)}:${p.port}. No key is pinned for it yet.`,
          `Server fingerprint: {bold}${sanitize(p.fingerprint)}{/bold}`,
          `Short fingerprint:  {bold}${sanitize(p.shortFingerprint)}{/bold}`,
          'Compare it with the fingerprint hushd printed at start (ask the admin).',
          'Trust this server and remember its key?',
        ]),
      });
      client = c;
      view.setBusy(true, v.register ? 'registering…' : 'logging in…');
      if (v.register) await c.register(v.user, v.password);
      else await c.login(v.user, v.password === '' ? undefined : v.password);
      if (ending) return;
      await startChat(c);
    } catch (err) {
      const { code, message } = describeError(err);
      const text = code ? `${code}: ${message}` : message;
      if (client === c && c) {
        client = null;
        await c.close().catch(() => undefined);
      }
      if (code && FATAL.has(code)) {
        await shutdown(2, `hush: ${stripControls(text)}`);
        return;
      }
      if (login) login.showError(text);
      else if (controller) controller.notice(text, 'error');
    }
  };

  const d = opts.defaults;
  login = new LoginView(screen, {
    server: `${d.host}:${d.port}`,
    user: d.user,
    password: d.password ?? '',
    register: d.register,
  }, (v) => { void submit(v); }, quit);
  if (d.autoLogin && d.user !== '') void submit(login.values());

  return { exited, screen, quit };
}
