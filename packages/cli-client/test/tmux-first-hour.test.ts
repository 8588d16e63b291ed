// A new user's first hour with `hush`, through real processes in tmux against a real hushd: what
// is typed ahead of a slow start, a small terminal's login form, and a stray Ctrl+D on a draft.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { closedPort, HushTui, inputLine, until } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { PASSWORD, quit, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
const SLOW_START = fileURLToPath(new URL('./helpers/slow-start.mjs', import.meta.url));

describe('hush in tmux: the first start', () => {
  it('what is typed while hush loads waits for the form: never echoed on the terminal it leaves, Enter kept', async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'hush-slow-'));
    const mark = join(scratch, 'loading');
    const tui = HushTui.start({
      args: ['--host', `127.0.0.1:${bed.server.port}`, '--fingerprint', bed.server.fingerprint],
      env: { NODE_OPTIONS: `--import ${SLOW_START}`, HUSH_TEST_SLOW_MARK: mark },
    });
    try {
      await until(() => existsSync(mark), 'hush to be loading');
      tui.type('alice');
      tui.keys('Enter');
      tui.type('typed ahead secret');
      // The name in its field, Enter taken as Enter (onward to the password), the rest masked there.
      await tui.waitFor((s) => s.includes('username   alice ') && /> password +\*{18} /.test(s), 'what was typed, on the form', 30_000);
      tui.keys('C-c');
      expect(await tui.exitCode()).toBe(0);
      const after = tui.capture();
      expect(after).not.toContain('typed ahead');
      expect(after).not.toContain('alice');
    } finally {
      tui.kill();
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 90_000);

  it('Enter on an empty username says to type one and stays; Ctrl+J is Enter: onward to the password', async () => {
    const tui = bed.start(['--host', `127.0.0.1:${bed.server.port}`], { password: '' });
    await tui.waitFor('> username', 'the form at the username');
    tui.keys('Enter');
    await tui.waitFor('type a username first', 'the words on the form');
    expect(await tui.captureAsync()).toContain('> username');
    tui.type('alice');
    tui.keys('C-j');
    await tui.waitFor('> password', 'the password in focus');
  }, 60_000);

  it('a 40x12 terminal: the login form fits, every field and the whole error in view', async () => {
    const port = await closedPort();
    const tui = HushTui.start({
      args: ['--host', `127.0.0.1:${port}`, '--user', 'zed', '--login'],
      env: { HUSH_PASSWORD: 'zed password' },
      width: 40,
      height: 12,
    });
    try {
      const screen = await tui.waitFor('hushd runs there', 'the whole error on the form');
      for (const label of [
        'server     127.0.0.1',
        'username   zed',
        'password   ****',
        'register   [ ]',
        'invite',
        'could not reach',
        'nothing listens on',
      ])
        expect(screen).toContain(label);
      expect(screen).toContain('hush — log in');
      tui.resize(80, 24); // grown, the spacious form with its keys hint comes back
      await tui.waitFor((s) => s.includes('Enter logs in') && s.includes('hushd runs there'), 'the form at 80x24');
    } finally {
      tui.kill();
    }
  }, 60_000);
});

describe('hush in tmux: the config file', () => {
  it('a mistyped key in hush.json is said on the form, with the key it likely meant', async () => {
    const home = bed.keptHome();
    mkdirSync(join(home, 'config', 'hush'), { recursive: true });
    writeFileSync(join(home, 'config', 'hush', 'hush.json'), '{"hots": "chat.example.org", "user": "alice"}');
    const tui = HushTui.start({ args: [], home, width: 100, height: 30 });
    try {
      const screen = (await tui.waitFor('ignored', 'the notice on the form')).replace(/\s*x\n\s*x\s*/g, ' ');
      expect(screen).toContain('"hots" (did you mean "host"?): not a setting hush knows, ignored');
      expect(screen).toContain('username   alice');
    } finally {
      tui.kill();
    }
  }, 60_000);
});

describe('hush in tmux: logging in on a second device', () => {
  it('a password pasted with its line break logs in (the break was a trailing space: wrong password)', async () => {
    await quit(await bed.loggedIn('alice'));
    const tui = bed.start(['--host', `127.0.0.1:${bed.server.port}`, '--user', 'alice', '--fingerprint', bed.server.fingerprint], {
      password: '',
    });
    await tui.waitFor('> password', 'the form at the password');
    tui.paste(`${PASSWORD}\n`);
    await tui.waitFor(`> password   ${'*'.repeat(PASSWORD.length)} `, 'the password, as long as it is');
    tui.keys('Enter');
    await tui.waitFor((s) => s.includes('#lobby') && / connected /.test(s), 'alice on her second device');
  }, 60_000);
});

describe('hush in tmux: a pinned server whose key changed', () => {
  it('the warning is left on the terminal line by line, the two fingerprints one above the other', async () => {
    const home = bed.keptHome();
    await quit(await bed.launch('alice', home, true));
    const pins = join(home, 'config', 'hush', 'known_servers');
    writeFileSync(pins, readFileSync(pins, 'utf8').replace(/SHA512:\S+/, `SHA512:${'A'.repeat(43)}`));
    const args = ['--host', `127.0.0.1:${bed.server.port}`, '--user', 'alice', '--login'];
    const tui = HushTui.start({ args, home, width: 120, height: 30 });
    try {
      expect(await tui.exitCode()).toBe(2);
      const rows = tui.capture().split('\n');
      expect(rows.some((r) => r.startsWith(`Pinned fingerprint:    SHA512:${'A'.repeat(43)}`))).toBe(true);
      expect(rows.some((r) => r.startsWith(`Presented fingerprint: ${bed.server.fingerprint}`))).toBe(true);
    } finally {
      tui.kill();
    }
  }, 90_000);
});

describe('hush in tmux: a wrong address or fingerprint says what to check', () => {
  it('a port where a plain TCP echo server listens: not hushd, check the address', async () => {
    const echo = createServer((socket) => socket.pipe(socket));
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    const port = (echo.address() as AddressInfo).port;
    try {
      const tui = bed.start(['--host', `127.0.0.1:${port}`, '--user', 'zed', '--login']);
      await tui.waitFor('[HANDSHAKE_FAILED]', 'the refusal');
      const form = (await tui.captureAsync()).replace(/\s*x\n\s*x\s*/g, ' ');
      expect(form).toContain(`127.0.0.1:${port} does not speak hushd's protocol`);
      expect(form).toContain('check the server address and port with its admin');
    } finally {
      echo.close();
    }
  }, 60_000);

  it('a --fingerprint that does not match: the whole warning, to the last word, with what to do', async () => {
    const wrong = `SHA512:${'A'.repeat(43)}`;
    const tui = bed.start(['--host', `127.0.0.1:${bed.server.port}`, '--user', 'zed', '--login', '--fingerprint', wrong]);
    const screen = await tui.waitFor('[UNTRUSTED_SERVER]', 'the whole refusal');
    expect(screen).toContain('check');
    expect(screen.replace(/\s*x\n\s*x\s*/g, ' ')).toContain('while it does not match, do not log in');
  }, 60_000);

  it('a mistyped --fingerprint (no fingerprint at all): said so, and the whole warning still fits at 80x24', async () => {
    const typo = bed.server.fingerprint.toLowerCase();
    const tui = HushTui.start({
      args: ['--host', `127.0.0.1:${bed.server.port}`, '--user', 'zed', '--login', '--fingerprint', typo],
      width: 80,
      height: 24,
    });
    try {
      const screen = (await tui.waitFor('[UNTRUSTED_SERVER]', 'the whole refusal')).replace(/\s*x\n\s*x\s*/g, ' ');
      expect(screen).toContain('which is not a fingerprint');
      expect(screen).toContain('do not log in');
    } finally {
      tui.kill();
    }
  }, 60_000);
});

describe('hush in tmux: a resize while a question is open', () => {
  it('the password question, narrowed to 40x12, is wrapped again whole, and what was typed stays', async () => {
    const alice = await bed.loggedIn('alice');
    await alice.typeLine('/passwd');
    await alice.waitFor('your current password (it is not shown):', 'the question');
    alice.type('abc');
    await alice.waitFor('> ***', 'three stars');
    alice.resize(40, 12);
    const narrow = await alice.waitFor(
      (s) => s.includes('is not shown):') && s.split('\n')[0]!.length <= 40,
      'the question wrapped at 40 columns',
    );
    expect(narrow).toContain('> ***');
    alice.keys('Escape');
    await alice.waitFor('your password stays as it');
  }, 60_000);
});

describe('hush in tmux: a resize while reading what is new', () => {
  it('opened at the new-since rule in a small terminal, then grown past the whole history: no blank rows under "more below"', async () => {
    const home = bed.keptHome();
    await quit(await bed.launch('alice', home, true));
    const bob = await bed.sdkClient('b');
    await bob.register('bob', PASSWORD);
    for (let i = 1; i <= 12; i++) await bob.send('lobby', `story ${i}`);
    const args = ['--host', `127.0.0.1:${bed.server.port}`, '--user', 'alice', '--login', '--fingerprint', bed.server.fingerprint];
    const alice = HushTui.start({ args, home, width: 40, height: 12 });
    try {
      await alice.waitFor((s) => s.includes('new since you were here') && s.includes('↓ more below'), 'opened at the rule');
      alice.resize(80, 24);
      // Everything fits at 80x24: the view comes down to the newest line.
      const grown = await alice.waitFor((s) => /story 12\b/.test(s), 'the newest line in view');
      expect(grown).not.toContain('↓ more below');
    } finally {
      alice.kill();
    }
  }, 90_000);
});

describe('hush in tmux: /help in an 80x24 terminal', () => {
  it('opens at its first line, the rest below; PageDown reads on to its end; the help of one command stays at the foot', async () => {
    const alice = await bed.loggedIn('alice');
    alice.resize(80, 24);
    await alice.waitFor((s) => s.split('\n')[1]!.length <= 80, 'the 80-column screen');
    await alice.typeLine('/help');
    const top = await alice.waitFor((s) => s.includes('commands:') && s.includes('↓ more below'), 'the help from its start');
    expect(top).toContain('/help [command]');
    for (let i = 0; i < 20 && !/who reads a room[\s\S]*direct messages/.test(alice.capture()); i++) {
      alice.keys('PageDown');
      await new Promise((r) => setTimeout(r, 150));
    }
    await alice.waitFor((s) => s.includes('who reads a room') && !s.includes('↓ more below'), 'the end of the help, at the foot');
    await alice.typeLine('/help away');
    await alice.waitFor((s) => s.includes('/away [text] — mark yourself away') && !s.includes('↓ more below'), 'one command, at the foot');
  }, 90_000);
});

describe('hush in tmux: the input line', () => {
  it('a mistyped command gets the likely one; Ctrl+D on a draft deletes the character under the cursor, on an empty line it quits', async () => {
    const alice = await bed.loggedIn('alice');
    // Mistyped commands first: a swap of two letters, and a slash alone.
    await alice.typeLine('/mgs bob hi');
    await alice.waitFor('unknown command /mgs — did you mean /msg?');
    await alice.typeLine('/');
    await alice.waitFor('a / alone is no command');
    await alice.typeLine('/help mgs');
    await alice.waitFor('no such command: /mgs — did you mean /msg?');
    alice.type('xa draft to keep');
    alice.keys('C-a', 'C-d');
    await alice.waitFor((s) => inputLine(s) === '> a draft to keep', 'the draft without its first character');
    expect(alice.capture()).not.toContain('HUSH-EXITED');
    alice.keys('End', 'C-u', 'C-d');
    expect(await alice.exitCode()).toBe(0);
  }, 60_000);
});
