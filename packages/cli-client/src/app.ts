// App wiring: login form -> connect (trust prompt) -> log in -> chat screen. Streams, the
// connector and paths are options so tests drive it with fakes and the CLI with the real SDK.
import { HushError } from '@hush/client';
import type blessed from 'blessed';
import { DEFAULT_PORT, formatServers, type LoginDefaults, type Remembered, type ServerAddress, splitServers, withPorts } from './config.js';
import { ChatController, type Memory } from './controller.js';
import { unsentText } from './format.js';
import type { Account, DirectConversation, DirectList } from './direct-list.js';
import { PASSWORD_RULE, USERNAME_PATTERN, USERNAME_RULE } from './rules.js';
import { type ClientEventMap, describeError, errorText, type SessionClient } from './sdk.js';
import { stripControls } from './sanitize.js';
import { isNumbered } from './state.js';
import { ChatView } from './view/chat-view.js';
import { LoginView, type LoginValues } from './view/login-view.js';
import { createScreen } from './view/screen.js';

export interface TrustRequest {
  host: string;
  port: number;
  fingerprint: string;
  shortFingerprint: string;
  /** Other addresses already pinned to this key: the same server, reached at a new address. */
  knownAs?: readonly string[];
}

export type { SessionClient } from './sdk.js';

export interface ConnectRequest {
  host: string;
  port: number;
  /** The server's other addresses (the nodes of its cluster). */
  failover?: ServerAddress[];
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
  /** What the last launches left (server, username, ignores). */
  remembered?: Remembered;
  /** Keep `remembered` for the next launch (default: nowhere). */
  remember?: (r: Remembered) => void;
  /** Where each account's direct conversations are kept for the next launch (default: nowhere). */
  directs?: DirectList;
}

const newHere = (user: string): string => `New here? Press Ctrl+R to tick "register", then Enter, to create the account "${user}".`;

/** What the network said, in words: a port with nothing on it, a name that does not resolve... */
function socketWords(code: unknown): string | undefined {
  const words: Record<string, string> = {
    ECONNREFUSED: 'nothing listens on that port',
    ENOTFOUND: 'no host has that name',
    EAI_AGAIN: 'the name could not be looked up (is the network up?)',
    EHOSTUNREACH: 'the host is out of reach from this network',
    ENETUNREACH: 'the network is out of reach (is it up?)',
    ETIMEDOUT: 'the host did not answer',
  };
  return typeof code === 'string' && words[code] ? `: ${words[code]} (${code})` : undefined;
}

/** A login or registration failure in words that say what to do. */
export function loginErrorText(
  err: unknown,
  attempt: { register: boolean; user: string; host: string; port: number; connected?: boolean; expected?: string },
): string {
  const { code, message } = describeError(err);
  const said = message !== '' && message !== code ? message : undefined;
  const at = `${attempt.host}:${attempt.port}`;
  // Before a session: something listens there but does not speak hush (a web server, another port);
  // a handshake refused by its cryptography keeps its own words (someone may be intercepting).
  if (!attempt.connected && (code === 'TIMEOUT' || (code === 'HANDSHAKE_FAILED' && !message.startsWith('handshake refused'))))
    return `${at} does not speak hushd's protocol (${said ?? code}): check the server address and port with its admin [${code}]`;
  switch (code) {
    case 'UNTRUSTED_SERVER':
      if (attempt.expected)
        return `${said ?? message}: check it with the admin; while it does not match, do not log in: this may be another server, or someone intercepting the connection [${code}]`;
      return `${said ?? message}: compare it with the fingerprint the admin gave you, then press Enter to be asked again [${code}]`;
    case 'AUTH_FAILED':
      return attempt.register ? 'wrong username or password' : `wrong username or password. ${newHere(attempt.user)}`;
    case 'USERNAME_INVALID':
      return `that username is not allowed: ${USERNAME_RULE}${said ? ` (${said})` : ''}`;
    case 'USERNAME_TAKEN':
      return `the username "${attempt.user}" is taken (or looks like one that is): pick another, or press Ctrl+R to log in instead`;
    case 'PASSWORD_WEAK':
      // The server says which rule the password broke; an older one does not.
      return `that password is too weak: ${said ?? PASSWORD_RULE}`;
    case 'PASSWORD_REQUIRED':
      if (attempt.register) return `type a password for the new account: ${PASSWORD_RULE}`;
      return `type your password: this device holds no key for "${attempt.user}" yet. ${newHere(attempt.user)}`;
    case 'INVALID_INVITE':
      return `${said ?? 'this server registers new accounts only with a valid invite code'}: type the code its admin gave you in the invite field`;
    case 'REGISTRATION_CLOSED':
      return 'this server does not take new accounts: ask its admin to create yours, then log in';
    case 'RATE_LIMITED':
      return 'too many attempts: wait a minute, then try again';
    case 'DEVICE_IN_USE':
      return `use the window where it runs, or quit it first: ${said ?? 'hush is already running for this account on this computer'}`;
    case 'CONNECT_FAILED': {
      const why = socketWords((err as { cause?: { code?: unknown } }).cause?.code);
      return `could not reach ${at}${why ?? (said ? ` (${said})` : '')}: check the server address, and that hushd runs there`;
    }
    default:
      return errorText(err);
  }
}

/** The trust prompt's words for a key already pinned under other addresses: the same server, moved or renamed. */
function sameServer(knownAs: readonly string[]): string[] {
  if (knownAs.length === 0) return [];
  return [
    `It shows the key of ${knownAs.map(stripControls).join(', ')}: the same server at a new address.`,
    'Your device, conversations and history there come along.',
  ];
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
  const exited = new Promise<number>((resolve) => {
    finish = resolve;
  });
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
    // Lines waiting for a connection that is away go nowhere once hush quits: said on the terminal, so
    // none is lost unseen (connected, close() gives them a moment to be acknowledged).
    const unsent = c && c.state !== 'ready' ? c.pendingSends : [];
    if (c) await Promise.race([c.close().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
    screen.destroy();
    if (message) opts.errorOutput?.write(`${message}\n`);
    if (unsent.length > 0) opts.errorOutput?.write(`${unsentText(unsent)}\n`);
    finish(code);
  };
  const quit = (): void => {
    void shutdown(0);
  };

  let remembered: Remembered = opts.remembered ?? { ignored: [] };
  const keep = (change: Partial<Remembered>): void => {
    remembered = { ...remembered, ...change };
    try {
      opts.remember?.(remembered);
    } catch (err) {
      controller?.notice(`could not save settings: ${errorText(err)}`, 'warn');
    }
  };
  const memory: Memory = {
    get ignored() {
      return remembered.ignored;
    },
    get bell() {
      return remembered.bell ?? true;
    },
    save: (change) =>
      keep({
        ...(change.ignored ? { ignored: [...change.ignored] } : {}),
        ...(change.bell !== undefined ? { bell: change.bell } : {}),
      }),
  };

  /** The account's direct conversations of the last launch; none (and said why) when they cannot be read. */
  const lastDirects = (account: Account): { conversations: DirectConversation[]; problem?: string } => {
    try {
      return { conversations: opts.directs?.load(account) ?? [] };
    } catch (err) {
      return { conversations: [], problem: `could not read the direct conversations of the last launch: ${errorText(err)}` };
    }
  };

  /** Keeps the list's direct conversations, in list order, each with its newest message, whenever they change. */
  const keepDirects = (ctl: ChatController, account: Account, restored: readonly DirectConversation[]): void => {
    const signature = (list: readonly DirectConversation[]): string => JSON.stringify(list);
    let kept = signature(restored);
    const check = (): void => {
      const list = ctl.state.conversations.flatMap((conv): DirectConversation[] => {
        if (conv.kind !== 'dm') return [];
        const seen = conv.lines.findLast(isNumbered)?.id;
        return [seen === undefined ? { user: conv.name } : { user: conv.name, seen }];
      });
      if (signature(list) === kept) return;
      kept = signature(list);
      try {
        opts.directs?.save(account, list);
      } catch (err) {
        ctl.notice(`could not save the list of direct conversations: ${errorText(err)}`, 'warn');
      }
    };
    ctl.subscribe(check);
    check();
  };

  const startChat = async (
    c: SessionClient,
    account: Account,
    loggedIn: { at: number; notices: readonly ClientEventMap['notice'][0][] },
  ): Promise<void> => {
    login?.destroy();
    login = null;
    const directs = lastDirects(account);
    const ctl = new ChatController({
      client: c,
      downloadsDir: opts.downloadsDir,
      memory,
      directs: directs.conversations,
      loginAt: loggedIn.at,
      loginNotices: loggedIn.notices,
      ui: {
        bell: () => chat?.bell(),
        ask: (q, initial) => (chat ? chat.modals.ask(q, initial) : Promise.resolve(null)),
        secrets: (questions) => (chat ? chat.modals.secrets(questions) : Promise.resolve(null)),
        confirm: (q, details = []) => (chat ? chat.modals.confirm('hush', [...details, q], 'close') : Promise.resolve(false)),
        choose: (title, lines, choices, unasked) => (chat ? chat.modals.choose(title, lines, choices, unasked) : Promise.resolve(null)),
        reveal: (key, id) => chat?.reveal(key, id),
        fromTop: (count) => chat?.fromTop(count),
        quit,
      },
    });
    controller = ctl;
    chat = new ChatView(screen, ctl, quit);
    await ctl.start();
    if (directs.problem) ctl.notice(directs.problem, 'warn');
    keepDirects(ctl, account, directs.conversations);
  };

  const submit = async (v: LoginValues): Promise<void> => {
    const view = login;
    if (!view) return;
    let hostPort: { host: string; port?: number };
    let others: { host: string; port?: number }[];
    try {
      [hostPort = { host: '' }, ...others] = splitServers(v.server);
    } catch (err) {
      view.showError(describeError(err).message);
      return;
    }
    if (hostPort.host === '' || v.user === '') {
      view.showError('server and username are required');
      return;
    }
    if (!USERNAME_PATTERN.test(v.user.normalize('NFKC').toLowerCase())) {
      view.showError(`"${v.user}" cannot be a username: ${USERNAME_RULE}`);
      return;
    }
    const port = hostPort.port ?? DEFAULT_PORT;
    const failover = withPorts(others, port);
    let register = v.register;
    view.setBusy(true, `connecting to ${hostPort.host}:${port}…`);
    let c: SessionClient | null = null;
    let connected = false;
    try {
      c = await opts.connect({
        host: hostPort.host,
        port,
        ...(failover.length > 0 ? { failover } : {}),
        expectedFingerprint: opts.defaults.fingerprint,
        // No input line here: only a y or n pressed after a pause answers, other keys are ignored.
        trust: async (p) =>
          (await view.modals.confirm(
            'new server',
            [
              `First contact with ${p.host}:${p.port}. No key is pinned for it yet.`,
              ...sameServer(p.knownAs ?? []),
              'Server fingerprint:',
              p.fingerprint,
              `Short fingerprint: ${p.shortFingerprint}`,
              'Compare it with the fingerprint hushd printed at start (ask the admin).',
              'Trust this server and remember its key?',
            ],
            'ignore',
          )) === true,
      });
      client = c;
      connected = true;
      // A launcher that always passes --register: this computer holds the account's device key for
      // the server already, so the account exists and this logs in (said once in the chat).
      register = v.register && !c.hasDeviceFor(v.user);
      if (register && v.password === '') throw new HushError('PASSWORD_REQUIRED');
      view.setBusy(true, register ? 'registering…' : 'logging in…');
      const loginAt = Date.now();
      // What the SDK says while logging in (a new account's end-to-end rooms) is shown once the chat is.
      const notices: ClientEventMap['notice'][0][] = [];
      const noted = (n: ClientEventMap['notice'][0]): void => void notices.push(n);
      c.on('notice', noted);
      if (register) await c.register(v.user, v.password, v.invite === '' ? {} : { invite: v.invite });
      else await c.login(v.user, v.password === '' ? undefined : v.password);
      if (ending) return;
      keep({
        host: failover.length > 0 ? formatServers([{ host: hostPort.host, port }, ...failover]) : hostPort.host,
        port,
        user: c.user ?? v.user,
      });
      c.off('notice', noted);
      await startChat(c, { server: c.fingerprint, user: c.user ?? v.user }, { at: loginAt, notices });
      if (v.register && !register)
        controller?.notice(`"${c.user ?? v.user}" is already an account of this device on this server: logged in, nothing registered`);
    } catch (err) {
      const { code } = describeError(err);
      const text = loginErrorText(err, {
        register,
        user: v.user,
        host: hostPort.host,
        port,
        connected,
        ...(opts.defaults.fingerprint ? { expected: opts.defaults.fingerprint } : {}),
      });
      if (client === c && c) {
        client = null;
        await c.close().catch(() => undefined);
      }
      if (code && FATAL.has(code)) {
        // Said on the terminal line by line (SSH's layout), so the two fingerprints sit one above the other.
        await shutdown(2, `hush: ${errorText(err).split('\n').map(stripControls).join('\n')}`);
        return;
      }
      if (login) login.showError(text);
      else if (controller) controller.notice(text, 'error');
    }
  };

  const d = opts.defaults;
  login = new LoginView(
    screen,
    {
      server: formatServers([{ host: d.host, port: d.port }, ...(d.failover ?? [])]),
      user: d.user,
      password: d.password ?? '',
      register: d.register,
      invite: d.invite ?? '',
    },
    (v) => {
      void submit(v);
    },
    quit,
  );
  if (d.notice) login.setBusy(false, d.notice);
  if (d.autoLogin && d.user !== '') void submit(login.values());

  return { exited, screen, quit };
}
