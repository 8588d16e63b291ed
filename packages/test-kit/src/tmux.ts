// Drives a real `hush` in a detached tmux session on a tmux server of its own (-S socket in a temp
// dir of its own, no config file), so options such as set-clipboard can be turned on without
// touching anyone else's tmux, and kill() removes everything, the server included. HOME and every
// XDG dir live in a temp home (or the caller's). Type with send-keys, paste with paste-buffer, read with capture-pane; waitFor polls
// through one control-mode client, so polling many panes starts no process per poll.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built `hush` (packages/cli-client/dist/cli.js). */
export const HUSH_CLI = fileURLToPath(new URL('../../cli-client/dist/cli.js', import.meta.url));
const EXIT_MARK = 'HUSH-EXITED=';
let counter = 0;

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `text` as a double-quoted tmux command argument. */
function tmuxQuote(text: string): string {
  if (/[\x00-\x1f\x7f]/.test(text)) throw new Error('control characters are keys: send them with keys()');
  return `"${text.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/** The input line of a captured screen: its last non-empty row. */
export function inputLine(screen: string): string {
  return screen.trimEnd().split('\n').at(-1) ?? '';
}

export interface HushTuiOptions {
  args: string[];
  env?: Record<string, string>;
  /** Reuse a home directory (keeps pins and device keys across runs); the caller removes it. */
  home?: string | undefined;
  width?: number;
  height?: number;
}

/** A control-mode tmux client (`tmux -C`): commands without a process per command, each awaited. */
class ControlClient {
  private readonly child: ChildProcess;
  private readonly waiting: { resolve: (output: string[]) => void; reject: (e: Error) => void }[] = [];
  private buffer = '';
  private block: string[] | null = null;

  constructor(socket: string, session: string) {
    this.child = spawn('tmux', ['-S', socket, '-C', 'attach-session', '-t', session], { stdio: ['pipe', 'pipe', 'ignore'] });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => this.read(chunk));
    this.child.once('exit', () => this.failAll(new Error('tmux control client exited')));
    // the pane's output is read with capture-pane: tmux need not copy it to this client as well
    this.run('refresh-client -f no-output').catch(() => undefined);
  }

  /** Runs tmux commands (one line, `;`-separated); resolves with the last one's output lines once tmux has run them all. */
  run(...commands: string[]): Promise<string[]> {
    const done = commands.map(() => new Promise<string[]>((resolve, reject) => this.waiting.push({ resolve, reject })));
    this.child.stdin!.write(`${commands.join(' ; ')}\n`);
    return Promise.all(done).then((outputs) => outputs.at(-1) ?? []);
  }

  close(): void {
    this.child.stdin!.end();
    this.failAll(new Error('tmux control client closed'));
  }

  /** Output blocks of our own commands are `%begin T N 1` … `%end T N 1` (or `%error`), in order. */
  private read(chunk: string): void {
    this.buffer += chunk;
    const lines = this.buffer.split('\n');
    this.buffer = lines.pop()!;
    for (const line of lines) {
      if (/^%begin \d+ \d+ 1$/.test(line)) this.block = [];
      else if (this.block && /^%(end|error) \d+ \d+ 1$/.test(line)) {
        const waiter = this.waiting.shift();
        if (line.startsWith('%end')) waiter?.resolve(this.block);
        else waiter?.reject(new Error(`tmux: ${this.block.join(' ')}`));
        this.block = null;
      } else if (this.block) this.block.push(line);
    }
  }

  private failAll(error: Error): void {
    for (const w of this.waiting.splice(0)) w.reject(error);
  }
}

export class HushTui {
  private alive = true;
  private control: ControlClient | null = null;

  private constructor(
    private readonly socketDir: string,
    readonly name: string,
    readonly home: string,
    private readonly ownsHome: boolean,
  ) {}

  /** Apart from the home, which a caller may remove while the session still runs. */
  get socket(): string {
    return join(this.socketDir, 'tmux.sock');
  }

  static start(opts: HushTuiOptions): HushTui {
    const home = opts.home ?? mkdtempSync(join(tmpdir(), 'hush-tui-'));
    const id = `${process.pid}-${++counter}-${Date.now().toString(36)}`;
    const tui = new HushTui(mkdtempSync(join(tmpdir(), 'hush-tmux-')), `hush-${id}`, home, opts.home === undefined);
    const env: Record<string, string> = {
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_DATA_HOME: join(home, 'data'),
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_STATE_HOME: join(home, 'state'),
      XDG_RUNTIME_DIR: join(home, 'run'),
      XDG_DOWNLOAD_DIR: join(home, 'Downloads'),
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...opts.env,
    };
    const assignments = Object.entries(env)
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(' ');
    const command = `env -i ${assignments} ${quote(process.execPath)} ${quote(HUSH_CLI)} ${opts.args.map(quote).join(' ')}; echo ${EXIT_MARK}$?; sleep 600`;
    try {
      tui.tmux(
        '-f',
        '/dev/null',
        'new-session',
        '-d',
        '-s',
        tui.name,
        '-x',
        String(opts.width ?? 120),
        '-y',
        String(opts.height ?? 40),
        command,
      );
      // Let an OSC 52 that leaked through create a tmux paste buffer, so a test can see it.
      tui.tmux('set-option', '-s', 'set-clipboard', 'on');
    } catch (error) {
      tui.kill();
      throw error;
    }
    return tui;
  }

  tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }

  capture(): string {
    return this.tmux('capture-pane', '-p', '-t', this.name);
  }

  /** The screen as capture() reads it, through the control client. */
  async captureAsync(): Promise<string> {
    return `${(await this.controlClient().run(`capture-pane -p -t ${this.name}`)).join('\n')}\n`;
  }

  /** With attributes as escape sequences (what tmux believes each cell looks like). */
  captureEscapes(): string {
    return this.tmux('capture-pane', '-p', '-e', '-t', this.name);
  }

  title(): string {
    return this.tmux('display-message', '-p', '-t', this.name, '#{pane_title}').trim();
  }

  /** tmux paste buffers (an OSC 52 that reached the terminal would have made one). */
  buffers(): string {
    try {
      return this.tmux('list-buffers', '-F', '#{buffer_sample}');
    } catch {
      return '';
    }
  }

  /** Literal text, no key names. */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.name, '-l', text);
  }

  /** Key names as tmux knows them: Enter, Tab, C-e, M-2, PageUp... */
  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  /**
   * Types `text` literally, then Enter, as fast as tmux can: through the control client, so no
   * process starts per line; resolves once tmux has written the keys to the pane.
   */
  async typeLine(text: string): Promise<void> {
    await this.controlClient().run(`send-keys -t ${this.name} -l ${tmuxQuote(text)}`, `send-keys -t ${this.name} Enter`);
  }

  /**
   * Pastes as a terminal does: bracketed (ESC[200~ ... ESC[201~) when the program asked for it,
   * newlines sent as carriage returns.
   */
  paste(text: string): void {
    const file = join(this.home, `.paste-${++counter}`);
    writeFileSync(file, text);
    const buffer = `${this.name}-paste`;
    this.tmux('load-buffer', '-b', buffer, file);
    this.tmux('paste-buffer', '-p', '-d', '-b', buffer, '-t', this.name);
    rmSync(file, { force: true });
  }

  /** Appends everything the program writes to its terminal from now on to `file` (bells included). */
  pipeTo(file: string): void {
    this.tmux('pipe-pane', '-o', '-t', this.name, `cat >> ${quote(file)}`);
  }

  /** Resizes the window (hush redraws on SIGWINCH). */
  resize(width: number, height: number): void {
    this.tmux('resize-window', '-t', this.name, '-x', String(width), '-y', String(height));
  }

  /** Polls the screen until `check` passes; fails with `what` and the last screen on timeout. */
  async waitFor(check: string | RegExp | ((screen: string) => boolean), what = String(check), timeoutMs = 15_000): Promise<string> {
    const test = typeof check === 'function' ? check : (s: string) => (typeof check === 'string' ? s.includes(check) : check.test(s));
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = await this.captureAsync();
      if (test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} in ${this.name}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 40));
    }
  }

  /** The exit code once the program has ended. */
  async exitCode(timeoutMs = 15_000): Promise<number> {
    const screen = await this.waitFor(new RegExp(`${EXIT_MARK}\\d+`), 'the program to exit', timeoutMs);
    return Number(new RegExp(`${EXIT_MARK}(\\d+)`).exec(screen)![1]);
  }

  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    this.control?.close();
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    rmSync(this.socketDir, { recursive: true, force: true });
    if (this.ownsHome) removeWhileWritten(this.home);
  }

  private controlClient(): ControlClient {
    this.control ??= new ControlClient(this.socket, this.name);
    return this.control;
  }
}

/**
 * Removes `dir`, which a hush exiting on the hang-up may still be writing its state into (on a
 * loaded machine for seconds): retried at once, then in the background for half a minute (a test
 * must not fail on its temp directory's clean-up).
 */
export function removeWhileWritten(dir: string, attempts = 60): void {
  try {
    rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  } catch {
    if (attempts > 1) setTimeout(() => removeWhileWritten(dir, attempts - 1), 500).unref();
  }
}
