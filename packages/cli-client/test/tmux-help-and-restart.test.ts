// What a person sees in real `hush` processes (tmux) against a real `hushd` process: /help at
// 80x24, a graceful restart of the server (SIGTERM), and `--register` from a launcher that always
// passes it, for an account this computer already holds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HUSH_CLI, HushTui } from '@hush/test-kit';
import { type HushdProcess, startHushd } from '../../server/test/helpers/hushd-process.js';
import { PASSWORD } from './helpers/tui-bed.js';

const dirs: string[] = [];
const tuis: HushTui[] = [];
const servers: HushdProcess[] = [];
afterEach(async () => {
  for (const t of tuis.splice(0)) t.kill();
  for (const s of servers.splice(0)) await s.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

const tempDir = (what: string): string => {
  const dir = mkdtempSync(join(tmpdir(), `hush-help-restart-${what}-`));
  dirs.push(dir);
  return dir;
};

/** `hushd` on a free port (or `port`, to come back on it), stopped with SIGTERM after the test. */
async function hushd(dataDir: string, port = 0): Promise<HushdProcess> {
  const server = await startHushd(['--port', String(port), '--data-dir', dataDir, '--registration', 'open', '--log-level', 'info']);
  servers.push(server);
  return server;
}

/** `hush` for `user` with `args` after the server's, in its own home (kept across launches when given). */
function hush(
  server: HushdProcess,
  user: string,
  opts: { args?: string[]; home?: string; password?: string; width?: number; height?: number } = {},
) {
  const tui = HushTui.start({
    args: ['--host', `127.0.0.1:${server.port}`, '--user', user, '--login', '--fingerprint', server.fingerprint, ...(opts.args ?? [])],
    env: opts.password === undefined ? {} : { HUSH_PASSWORD: opts.password },
    home: opts.home ?? tempDir('home'),
    width: opts.width ?? 120,
    height: opts.height ?? 40,
  });
  tuis.push(tui);
  return tui;
}

const onChat = (tui: HushTui, what: string) => tui.waitFor((s) => s.includes('#lobby') && / connected /.test(s), what);
/** The message pane's rows at 80 columns (the chat list and the borders cut off). */
const paneRows = (screen: string): string[] =>
  screen
    .split('\n')
    .filter((r) => /^[x│]/.test(r))
    .map((r) => r.replace(/^[x│][^x│]*[x│][x│]/, '').replace(/\s*[x│]\s*$/, ''));

describe('hush in tmux: /help, a server restart, --register of an account held here', () => {
  it('/help at 80x24: "what the server sees" reads as paragraphs, one time stamp each, no word alone on a row', async () => {
    expect(HUSH_CLI).toBeTruthy();
    const server = await hushd(tempDir('data'));
    const alice = hush(server, 'alice', { args: ['--register'], password: PASSWORD, width: 80, height: 24 });
    await onChat(alice, 'alice on the chat screen');
    await alice.typeLine('/help');
    await alice.waitFor('commands:', '/help from its first line');
    // PageDown reads on to its end.
    for (let i = 0; i < 20 && alice.capture().includes('↓ more below'); i++) {
      alice.keys('PageDown');
      await new Promise((r) => setTimeout(r, 150));
    }
    const screen = await alice.waitFor((s) => s.includes('who reads a room') && !s.includes('↓ more below'), '/help at its end');
    const rows = paneRows(screen);
    const from = rows.findIndex((r) => r.includes('-*- what the server sees:'));
    expect(from, screen).toBeGreaterThanOrEqual(0);
    const paragraph = rows.slice(from).filter((r) => r.trim() !== '');
    // Four logical lines: the heading, two items, the room paragraph; every other row continues one.
    expect(
      paragraph.filter((r) => /^\d\d:\d\d -\*- /.test(r)),
      screen,
    ).toHaveLength(4);
    expect(
      paragraph.find((r) => /^\d\d:\d\d -\*- +of open rooms and their files: everything$/.test(r)),
      screen,
    ).toBeDefined();
    for (const r of paragraph) {
      expect(r, screen).toMatch(/^(\d\d:\d\d -\*- |\s+┆ )/);
      const words = r
        .replace(/^(\d\d:\d\d -\*- |\s+┆ )/, '')
        .trim()
        .split(/\s+/);
      expect(words.length, `a word alone on a row:\n${screen}`).toBeGreaterThan(1);
    }
    const text = paragraph.map((r) => r.replace(/^(\d\d:\d\d -\*- |\s+┆ )/, '').trim()).join(' ');
    expect(text).toContain('who reads a room: any user of the server may join any room and reads it from then on');
    expect(text).toContain('keep what only some may read in direct messages');

    // Scrolled up with nothing new below: no stray colon.
    alice.keys('PageUp');
    const up = await alice.waitFor('↓ more below', 'the more-below row');
    expect(up).toContain('↓ more below (PageDown)');
    expect(up).not.toContain('↓ more below:');
  }, 90_000);

  it('SIGTERM of hushd: the pane says the server is shutting down, not that the connection was lost; back once it restarts', async () => {
    const dataDir = tempDir('data');
    const server = await hushd(dataDir);
    const alice = hush(server, 'alice', { args: ['--register'], password: PASSWORD, width: 80, height: 24 });
    await onChat(alice, 'alice on the chat screen');
    expect(await server.stop()).toBe(0);
    expect(server.log().some((l) => l.event === 'shutting_down')).toBe(true);
    const down = await alice.waitFor('reconnecting…', 'the drop said');
    expect(down).toContain('the server is shutting down');
    expect(down).not.toContain('connection lost');
    await hushd(dataDir, server.port);
    const back = await alice.waitFor('reconnected', 'reconnected', 40_000);
    expect(back).not.toContain('connection lost');
  }, 90_000);

  it('--register for an account whose device key this computer holds logs in, with no password, and says so once', async () => {
    const server = await hushd(tempDir('data'));
    const home = tempDir('home');
    const first = hush(server, 'bob', { args: ['--register'], password: PASSWORD, home });
    await onChat(first, 'bob registered');
    first.keys('C-c');
    expect(await first.exitCode()).toBe(0);
    first.kill();

    // The launcher again, always with --register, and no password this time.
    const again = hush(server, 'bob', { args: ['--register'], home });
    await onChat(again, 'bob logged in again');
    const screen = await again.waitFor('"bob" is already an account of this device on this server:', 'said once');
    expect(screen.split('already an account of this device')).toHaveLength(2);
    expect(screen).not.toMatch(/is taken|type a password/);
  }, 90_000);
});
