// Drive a real `hush` process in a detached tmux session: type with send-keys, paste with
// paste-buffer, read with capture-pane, poll with a deadline. The sessions live on a tmux server of
// this test process's own (-L socket); every session gets a unique name and is killed by kill().
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
const EXIT_MARK = 'HUSH-EXITED=';
const SOCKET = `hush-cli-test-${process.pid}`;
let counter = 0;

/** Ends this test process's tmux server and its socket (call in afterAll): nothing a failed test left keeps running. */
export function endTmuxServer(): void {
  try {
    execFileSync('tmux', ['-L', SOCKET, 'kill-server'], { stdio: 'ignore' });
  } catch {
    // no server left
  }
  rmSync(join(process.env.TMUX_TMPDIR ?? '/tmp', `tmux-${process.getuid?.() ?? 0}`, SOCKET), { force: true });
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export interface HushSessionOptions {
  args: string[];
  env?: Record<string, string>;
  /** Reuse a home directory (keeps pins and device keys across runs). */
  home?: string;
  width?: number;
  height?: number;
}

export class HushSession {
  readonly name: string;
  readonly home: string;
  private readonly ownsHome: boolean;
  private alive = true;

  private constructor(name: string, home: string, ownsHome: boolean) {
    this.name = name;
    this.home = home;
    this.ownsHome = ownsHome;
  }

  static start(opts: HushSessionOptions): HushSession {
    const home = opts.home ?? mkdtempSync(join(tmpdir(), 'hush-tui-home-'));
    const name = `hush-tui-${process.pid}-${++counter}-${Date.now().toString(36)}`;
    const env: Record<string, string> = {
      HOME: home,
      XDG_CONFIG_HOME: join(home, 'config'),
      XDG_DATA_HOME: join(home, 'data'),
      XDG_DOWNLOAD_DIR: join(home, 'Downloads'),
      TERM: 'xterm-256color',
      LANG: 'C.UTF-8',
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      ...opts.env,
    };
    const assignments = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`).join(' ');
    const command = `env -i ${assignments} ${quote(process.execPath)} ${quote(CLI)} ${opts.args.map(quote).join(' ')}; echo ${EXIT_MARK}$?; sleep 600`;
    tmux('new-session', '-d', '-s', name, '-x', String(opts.width ?? 120), '-y', String(opts.height ?? 40), command);
    return new HushSession(name, home, opts.home === undefined);
  }

  capture(): string {
    return tmux('capture-pane', '-p', '-t', this.name);
  }

  title(): string {
    return tmux('display-message', '-p', '-t', this.name, '#{pane_title}').trim();
  }

  /** Literal text, no key names. */
  type(text: string): void {
    tmux('send-keys', '-t', this.name, '-l', text);
  }

  /**
   * Paste as a terminal does: bracketed (ESC[200~ ... ESC[201~) when the program asked for it,
   * newlines sent as carriage returns.
   */
  paste(text: string): void {
    const file = join(this.home, `.paste-${++counter}`);
    writeFileSync(file, text);
    const buffer = `${this.name}-paste`;
    tmux('load-buffer', '-b', buffer, file);
    tmux('paste-buffer', '-p', '-d', '-b', buffer, '-t', this.name);
    rmSync(file, { force: true });
  }

  /** Appends everything the program writes to its terminal from now on to `file` (bells included). */
  pipeTo(file: string): void {
    tmux('pipe-pane', '-o', '-t', this.name, `cat >> ${quote(file)}`);
  }

  /** Key names as tmux knows them: Enter, Tab, C-e, M-2, PageUp... */
  keys(...keys: string[]): void {
    tmux('send-keys', '-t', this.name, ...keys);
  }

  /** Poll the screen until `check` passes; fail with the last screen on timeout. */
  async waitFor(check: string | RegExp | ((screen: string) => boolean), timeoutMs = 15_000): Promise<string> {
    const test = typeof check === 'function' ? check : (s: string) => (typeof check === 'string' ? s.includes(check) : check.test(s));
    const deadline = Date.now() + timeoutMs;
    let screen = '';
    for (;;) {
      screen = this.capture();
      if (test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(check)} in ${this.name}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The exit code once the program has ended. */
  async exitCode(timeoutMs = 15_000): Promise<number> {
    const screen = await this.waitFor(new RegExp(`${EXIT_MARK}\\d+`), timeoutMs);
    return Number(new RegExp(`${EXIT_MARK}(\\d+)`).exec(screen)![1]);
  }

  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    try {
      tmux('kill-session', '-t', this.name);
    } catch {
      // already gone
    }
    // hush may still be saving its state as it exits on the hang-up: retry while files appear.
    if (this.ownsHome) rmSync(this.home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  }
}
