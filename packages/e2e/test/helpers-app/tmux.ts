// Drives a real `hush` in a detached tmux session on a private tmux server (-S socket in the temp
// home), so options such as set-clipboard can be turned on without touching anyone else's tmux,
// and kill() removes everything (the server included). HOME and every XDG dir live in that temp dir.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const HUSH_CLI = resolve(__dirname, '../../../cli-client/dist/cli.js');
let counter = 0;

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface TuiOptions {
  args: string[];
  env?: Record<string, string>;
  width?: number;
  height?: number;
}

export class Tui {
  readonly home: string;
  private alive = true;

  private constructor(
    readonly socket: string,
    readonly name: string,
    home: string,
  ) {
    this.home = home;
  }

  static start(opts: TuiOptions): Tui {
    const home = mkdtempSync(join(tmpdir(), 'hush-app-tui-'));
    const id = `${process.pid}-${++counter}-${Date.now().toString(36)}`;
    const tui = new Tui(join(home, 'tmux.sock'), `hostile-app-${id}`, home);
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
    const assignments = Object.entries(env).map(([k, v]) => `${k}=${quote(v)}`).join(' ');
    const command = `env -i ${assignments} ${quote(process.execPath)} ${quote(HUSH_CLI)} ${opts.args.map(quote).join(' ')}; echo HUSH-EXITED=$?; sleep 600`;
    tui.tmux('-f', '/dev/null', 'new-session', '-d', '-s', tui.name, '-x', String(opts.width ?? 120), '-y', String(opts.height ?? 40), command);
    try {
      // Let an OSC 52 that leaked through create a tmux paste buffer, so the test can see it.
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

  keys(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  async waitFor(check: (screen: string) => boolean, what: string, timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const screen = this.capture();
      if (check(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; screen:\n${screen}`);
      await new Promise((r) => setTimeout(r, 40));
    }
  }

  kill(): void {
    if (!this.alive) return;
    this.alive = false;
    try {
      this.tmux('kill-server');
    } catch {
      // already gone
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}
