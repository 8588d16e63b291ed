// End to end: a real hushd (startTestServer) and real `hush` processes in tmux.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HushClient } from '@hush/client';
import { describe, expect, it } from 'vitest';
import { inputLine, until } from '@hush/test-kit';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
const start = bed.start.bind(bed);
const loggedIn = bed.loggedIn.bind(bed);

describe('hush in tmux', () => {
  it('logs in through the form after a first-contact trust prompt', async () => {
    const s = start(['--host', '127.0.0.1', '--port', String(bed.server.port), '--user', 'alice', '--register']);
    await s.waitFor('hush — register');
    expect(s.capture()).not.toContain(PASSWORD);
    s.keys('Enter');
    const prompt = await s.waitFor((x) => x.includes('Trust this server') && x.includes('[y] yes')); // armed
    expect(prompt).toContain(bed.server.fingerprint);
    expect(prompt).toMatch(/Short fingerprint: +\d{5}( \d{5})+/);
    s.keys('y');
    const screen = await s.waitFor((x) => x.includes('#lobby') && x.includes(' connected '));
    expect(screen).toContain('🔒 end-to-end encrypted room'); // lobby, like every room, by default
    expect(screen).not.toContain(PASSWORD);
    s.keys('C-c');
    expect(await s.exitCode()).toBe(0);
  });

  it('refuses a changed server key and exits non-zero', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hush-tui-home-'));
    try {
      mkdirSync(join(home, 'config', 'hush'), { recursive: true });
      writeFileSync(
        join(home, 'config', 'hush', 'known_servers'),
        `127.0.0.1:${bed.server.port} SHA512:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n`,
      );
      const s = start(['--host', `127.0.0.1:${bed.server.port}`, '--user', 'alice', '--login'], { home });
      const code = await s.exitCode();
      expect(code).not.toBe(0);
      expect(s.capture()).toContain('SERVER_KEY_CHANGED');
    } finally {
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });

  it('delivers a room message, a direct message, :smile: and a picked emoji', async () => {
    const { alice, bob } = await bed.aliceAndBob();

    await alice.typeLine('hello bob :smile: at 12:30:45 http://x:80:y');
    await bob.waitFor('<alice> hello bob 😄 at 12:30:45 http://x:80:y');

    // the picker: Ctrl+E, search, Enter inserts into the input line
    alice.keys('C-e');
    await alice.waitFor('search: _');
    alice.type('tada');
    await alice.waitFor(':tada:');
    alice.keys('Enter');
    await alice.waitFor((x) => inputLine(x).includes('🎉'));
    alice.keys('Enter');
    await bob.waitFor('<alice> 🎉');

    await alice.typeLine('/msg bob a secret for you');
    await bob.waitFor(/3\.@alice\s+1/);
    bob.keys('M-3');
    const dm = await bob.waitFor('<alice> a secret for you');
    expect(dm).toContain('end-to-end encrypted (unverified)');
    expect(dm).toContain('hush  @alice');

    // bob has the DM on screen, so his hush marked it read: alice sees that in her status bar.
    alice.keys('M-3');
    await alice.waitFor((x) => x.includes('hush  @bob') && x.includes('seen by bob'));
    await alice.typeLine('/whois bob');
    await alice.waitFor((x) => x.includes('presence: online') && x.includes('end-to-end: not verified'));
  });

  it('completes a nick with Tab and opens a DM from the people list', async () => {
    const alice = await loggedIn('alice');
    await loggedIn('bob');
    await alice.waitFor(/● *bob/);
    alice.type('bo');
    alice.keys('Tab');
    await alice.waitFor((x) => inputLine(x).startsWith('> bob:'));
    await alice.typeLine('hi');
    await alice.waitFor('<alice> bob: hi');
    // Ctrl+O focuses the people list: alice, bob (sorted); Down then Enter opens @bob
    alice.keys('C-o');
    alice.keys('Down');
    alice.keys('Enter');
    await alice.waitFor('hush  @bob');
  });

  it('reconnects after the server restarts on the same port', async () => {
    const alice = await loggedIn('alice');
    const bob = await loggedIn('bob');
    await bed.stopServer();
    await alice.waitFor(/reconnecting/);
    await bed.restart();
    await alice.waitFor((x) => / connected /.test(x) && x.includes('reconnected'), 'alice reconnected', 30_000);
    await bob.waitFor((x) => / connected /.test(x) && x.includes('reconnected'), 'bob reconnected', 30_000);
    await alice.typeLine('after the restart');
    await bob.waitFor('<alice> after the restart');
  });

  it('renders an escape and forgery corpus from a raw client harmlessly', async () => {
    const alice = await loggedIn('alice');
    const titleBefore = alice.title();
    const mallory = await bed.sdkClient('m');
    await mallory.register('mallory', PASSWORD);
    await alice.waitFor('mallory joined #lobby');
    const corpus = [
      'osc-title \x1b]0;PWNED-TITLE\x07 end1',
      'osc-52 \x1b]52;c;cm0gLXJmIH4K\x07 end2',
      'clear \x1b[2J\x1b[H end3',
      'c1-csi \x9b2J end4',
      'hi\r<alice> forged line end5',
      'second\n<alice> forged too end6',
      'bidi \u202Eevil\u202C end7',
      'tags {red-fg}literal{/red-fg} end8',
      'nul \x00 byte end9',
    ];
    for (const text of corpus) await mallory.send('lobby', text);
    const screen = await alice.waitFor('end9');
    for (let i = 1; i <= 9; i++) expect(screen).toContain(`end${i}`);
    // the earlier screen is still there (no clear), the title did not change
    expect(screen).toContain('mallory joined #lobby');
    expect(alice.title()).toBe(titleBefore);
    expect(alice.title()).not.toContain('PWNED');
    expect(screen).not.toContain('PWNED');
    // blessed tags show literally
    expect(screen).toContain('{red-fg}literal{/red-fg}');
    // no row of the message pane starts with a forged sender: every "<alice>" is inside mallory's line
    const rows = screen.split('\n').map((r) => r.replace(/^x.{20}x?x/, ''));
    for (const row of rows) expect(row).not.toMatch(/^(\d\d:\d\d )?<alice>/);
    expect(screen).toMatch(/<mallory> hi<alice> forged line end5/);
    // a message's second line is indented under the gutter mark, never at a line start
    expect(screen).toMatch(/xx {14}┆ <alice> forged too end6/);
    // invisible direction controls show as U+FFFD
    expect(screen).toContain('bidi \ufffdevil\ufffd end7');
  });
});

describe('hush in tmux: files', () => {
  it('shows the offer, the progress bar and the saved path', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    const file = join(alice.home, 'report.bin');
    writeFileSync(file, Buffer.alloc(300_000, 7));
    await alice.typeLine(`/file ${file}`);
    await alice.waitFor(/sent "report\.bin" \(293 KiB\) \[#+\] 100%/);
    // lobby is end to end: so is its file (name and key in a sealed room message, chunks sealed).
    const prompt = await bob.waitFor((s) => s.includes('alice offers "report.bin"') && s.includes('[l] later'));
    expect(prompt).toContain('to #lobby, end-to-end encrypted');
    bob.keys('l'); // later: the offer stays in the room for /accept
    await bob.waitFor(/file offer from alice: "report\.bin" \(293 KiB, end-to-end/);
    await bob.typeLine('/accept');
    const downloads = join(bob.home, 'Downloads');
    await bob.waitFor('into folder:');
    await bob.waitFor(`> ${downloads}`);
    bob.keys('Enter');
    // the line wraps in the pane: path and bar come on continuation lines
    const saved = await bob.waitFor(/saved "report\.bin" to[\s\S]*?\[#+\] 100%/);
    expect(saved).toContain(join(downloads, 'report.bin'));
    expect(existsSync(join(downloads, 'report.bin'))).toBe(true);
    await alice.waitFor('bob saved "report.bin"');
  });

  it('sends a file end to end to one person', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    const file = join(alice.home, 'secret.txt');
    writeFileSync(file, 'for bob only\n'.repeat(1000));
    await alice.typeLine('/query bob');
    await alice.waitFor('hush  @bob');
    await alice.typeLine(`/file ${file}`);
    await alice.waitFor(/sent "secret\.txt" \(12\.7 KiB\) \[#+\] 100%/);
    const prompt = await bob.waitFor((s) => s.includes('alice offers "secret.txt"') && s.includes('[a] accept'));
    expect(prompt).toContain('to you, end-to-end encrypted');
    bob.keys('a');
    await bob.waitFor('into folder:');
    const downloads = join(bob.home, 'elsewhere');
    bob.keys('C-u');
    // A person reads the question before typing a folder (text typed at once was meant for the chat).
    await new Promise((r) => setTimeout(r, 500));
    await bob.typeLine(downloads);
    await bob.waitFor(/3\.@alice/);
    bob.keys('M-3');
    const saved = await bob.waitFor(/saved "secret\.txt" to[\s\S]*?\[#+\] 100%/);
    expect(saved).toContain('end-to-end encrypted (unverified)');
    expect(existsSync(join(downloads, 'secret.txt'))).toBe(true);
  });
});

/** A raw SDK client in #lobby that records every room message it receives. */
async function watcher(name = 'watcher'): Promise<{ client: HushClient; texts: string[] }> {
  const client = await bed.sdkClient(name);
  const texts: string[] = [];
  client.on('message', (m) => {
    if (m.kind === 'room' && !m.mine) texts.push(m.text);
  });
  await client.register(name, PASSWORD);
  return { client, texts };
}

describe('hush in tmux: pastes and long text', () => {
  it('a 20-line bracketed paste asks, then arrives as one multi-line message; lines typed with Enter stay separate', async () => {
    const alice = await loggedIn('alice');
    const w = await watcher();
    await alice.waitFor('watcher joined #lobby');
    const lines = Array.from({ length: 20 }, (_, i) => `paste line ${String(i + 1).padStart(2, '0')}`);
    alice.paste(lines.join('\n'));
    const prompt = await alice.waitFor('[y] send'); // the keys show once they count
    expect(prompt).toContain('You pasted 20 lines');
    expect(w.texts).toEqual([]);
    alice.keys('y');
    await until(() => w.texts.length > 0, 'the pasted message');
    await new Promise((r) => setTimeout(r, 500)); // anything more would be a bug
    expect(w.texts).toEqual([lines.join('\n')]);
    // the sender's pane: one message, its other lines as continuation rows
    const screen = await alice.waitFor('paste line 20');
    expect(screen.match(/<alice>/g)).toHaveLength(1);
    // five lines and their Enters in one send-keys: they arrive together, yet each Enter sends its line
    const typed = Array.from({ length: 5 }, (_, i) => `typed line ${i + 1}`);
    alice.keys(...typed.flatMap((line) => [line, 'Enter']));
    await until(() => w.texts.length === 6, 'five typed lines');
    expect(w.texts.slice(1)).toEqual(typed);
  });

  it('a 10,000-character paste shows in the input at once and is sent split at word boundaries', async () => {
    const alice = await loggedIn('alice');
    const w = await watcher();
    await alice.waitFor('watcher joined #lobby');
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`).join(' ');
    const text = `${words} END-OF-PASTE`.slice(-10_000);
    const t0 = Date.now();
    alice.paste(text);
    await alice.waitFor((s) => inputLine(s).includes('END-OF-PASTE'));
    // Includes tmux and capture polling: a bound that holds on a loaded machine (speed is the bench's).
    expect(Date.now() - t0).toBeLessThan(10_000);
    alice.keys('Enter');
    await until(() => w.texts.join(' ').length >= text.length, 'the whole text');
    expect(w.texts.map((t) => t.length)).toHaveLength(3);
    for (const piece of w.texts) expect(piece.length).toBeLessThanOrEqual(4000);
    expect(w.texts.join(' ')).toBe(text);
    await alice.waitFor('long text: sent as 3 messages');
  });
});

// A 30-second outage by default; HUSH_OUTAGE_MS shortens it while working on this test.
const OUTAGE_MS = Number(process.env.HUSH_OUTAGE_MS ?? 30_000);

describe('hush in tmux: nothing typed is lost', () => {
  it(
    `a line typed during a ${OUTAGE_MS / 1000} s outage shows pending, then arrives exactly once`,
    async () => {
      const { alice, bob } = await bed.aliceAndBob();
      const w = await watcher(); // a member before the line is sent: lobby is end to end
      await bed.stopServer();
      await alice.waitFor(/reconnecting/);
      await alice.typeLine('typed while the server was down');
      const pending = await alice.waitFor('(sending…)');
      expect(pending).toContain('typed while the server was down');
      await new Promise((r) => setTimeout(r, OUTAGE_MS));
      expect(alice.capture()).toContain('(sending…)');
      await bed.restart();
      await bob.waitFor('<alice> typed while the server was down', 'the queued line at bob', 30_000 + OUTAGE_MS);
      await alice.waitFor(
        (s) => s.includes('typed while the server was down') && !s.includes('(sending…)'),
        'the queued line sent',
        30_000,
      );
      // The watcher was offline too: it reads the line once it is back and has alice's key.
      await until(() => w.texts.includes('typed while the server was down'), 'the queued line at the watcher', 30_000);
      await new Promise((r) => setTimeout(r, 1000));
      expect(bob.capture().match(/typed while the server was down/g)).toHaveLength(1);
      expect(w.texts.filter((t) => t === 'typed while the server was down')).toHaveLength(1);
      const history = (await w.client.history({ room: 'lobby' }, { limit: 50 })).messages;
      expect(history.filter((m) => m.text === 'typed while the server was down')).toHaveLength(1);
    },
    90_000 + OUTAGE_MS,
  );

  it('a refused line says which, and Up brings it back into the input', async () => {
    const { bob } = await bed.bobMutedInQuiet();
    await bob.typeLine('this line must not vanish');
    const screen = await bob.waitFor((x) => x.includes('<bob> this line must not vanish') && x.includes('!!! not sent: '));
    expect(screen).not.toContain('SCHEMA_VIOLATION');
    expect(inputLine(screen).trim()).toBe('>'); // never put back by itself: it would be glued to what is typed
    bob.keys('Up');
    await bob.waitFor((s) => inputLine(s).includes('> this line must not vanish'));
  });
});

describe('hush in tmux: the first hour', () => {
  it('registers on an invite-only server with the invite code; without one the form says where it goes', async () => {
    await bed.stopServer();
    const port = bed.server.port;
    await bed.restart('invite');
    bed.server.store.createInvite('k3y-2026', null, Date.now());
    const args = ['--host', `127.0.0.1:${port}`, '--user', 'alice', '--register', '--login', '--fingerprint', bed.server.fingerprint];
    const refused = start(args);
    const form = await refused.waitFor('registers new accounts only');
    expect(form).not.toMatch(/INVALID_INVITE: INVALID_INVITE/);
    refused.kill();
    const invited = start([...args, '--invite', 'k3y-2026']);
    await invited.waitFor((s) => s.includes('#lobby') && / connected /.test(s));
  });

  it('/join of a room that does not exist creates it', async () => {
    const alice = await loggedIn('alice');
    await alice.typeLine('/join #brand-new');
    const screen = await alice.waitFor('#brand-new did not exist: you created it');
    expect(screen).toContain('hush  #brand-new');
    const w = await watcher();
    expect((await w.client.listRooms()).map((r) => r.room)).toContain('brand-new');
  });

  it('remembers the server and username for the next launch; the first screen has the history and the /help hint', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hush-tui-home-'));
    try {
      const first = start(
        ['--host', `127.0.0.1:${bed.server.port}`, '--user', 'alice', '--register', '--login', '--fingerprint', bed.server.fingerprint],
        { home },
      );
      await first.waitFor((s) => s.includes('#lobby') && / connected /.test(s));
      await first.typeLine('something to remember');
      await first.waitFor('<alice> something to remember');
      first.keys('C-c');
      expect(await first.exitCode()).toBe(0);
      first.kill();
      const second = start([], { home });
      const form = await second.waitFor('hush — log in');
      expect(form).toMatch(/server +127\.0\.0\.1:\d+/);
      expect(form).toContain(`127.0.0.1:${bed.server.port}`);
      expect(form).toMatch(/username +alice/);
      second.keys('Enter'); // the password comes from HUSH_PASSWORD; the device key logs in
      // the history loads just after the screen opens
      await second.waitFor((s) => / connected /.test(s) && s.includes('Type /help') && s.includes('<alice> something to remember'));
    } finally {
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });
});

describe('hush in tmux: file offers ask', () => {
  it('an offer declined is not mentioned again at the next login; one left for later is listed there', async () => {
    const home = mkdtempSync(join(tmpdir(), 'hush-tui-home-'));
    try {
      const alice = await loggedIn('alice');
      const bobArgs = [
        '--host',
        `127.0.0.1:${bed.server.port}`,
        '--user',
        'bob',
        '--register',
        '--login',
        '--fingerprint',
        bed.server.fingerprint,
      ];
      const bob = start(bobArgs, { home });
      await alice.waitFor('bob joined #lobby');
      for (const name of ['declined.txt', 'later.txt']) {
        writeFileSync(join(alice.home, name), `${name}\n`);
        await alice.typeLine(`/file ${join(alice.home, name)}`);
        await bob.waitFor((s) => s.includes(`alice offers "${name}"`) && s.includes('[d] decline'));
        bob.keys(name === 'declined.txt' ? 'd' : 'l');
        await bob.waitFor((s) => !s.includes('alice offers'));
      }
      await alice.waitFor('bob declined "declined.txt"');
      bob.keys('C-c');
      expect(await bob.exitCode()).toBe(0);
      bob.kill();
      const again = start(
        bobArgs.filter((a) => a !== '--register'),
        { home },
      );
      // Waiting offers are listed once at login, not asked one by one.
      await again.waitFor((s) => s.includes('1 file offered while you were away') && s.includes('alice offered "later.txt"'));
      await new Promise((r) => setTimeout(r, 1000)); // anything more would be listed or asked by now
      expect(again.capture()).not.toContain('declined.txt');
      expect(again.capture()).not.toContain('[l] later');
    } finally {
      rmSync(home, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    }
  });

  it('offer -> prompt -> accept -> save path -> identical file; decline; later', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    /** alice offers a file to the room; bob's prompt for it is on screen. */
    const offer = async (name: string, content: Buffer | string): Promise<string> => {
      const file = join(alice.home, name);
      writeFileSync(file, content);
      await alice.typeLine(`/file ${file}`);
      return bob.waitFor((s) => s.includes(`alice offers "${name}"`) && s.includes('[a] accept'));
    };
    const bytes = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 256));
    const prompt = await offer('photo.bin', bytes);
    expect(prompt).toContain('[a] accept');
    expect(prompt).toContain('[d] decline');
    expect(prompt).toContain('[l] later');
    bob.keys('a');
    const downloads = join(bob.home, 'Downloads');
    await bob.waitFor(`> ${downloads}`);
    bob.keys('Enter');
    await bob.waitFor(/saved "photo\.bin" to/);
    expect(readFileSync(join(downloads, 'photo.bin')).equals(bytes)).toBe(true);
    await alice.waitFor('bob saved "photo.bin"');

    await offer('unwanted.txt', 'no thanks\n');
    bob.keys('d');
    await alice.waitFor('bob declined "unwanted.txt"');
    await bob.waitFor('file "unwanted.txt" declined');

    await offer('later.txt', 'for later\n');
    bob.keys('l');
    await bob.waitFor((s) => !s.includes('alice offers') && s.includes('"later.txt"'));
    await bob.typeLine('/accept');
    await bob.waitFor('into folder:');
    bob.keys('Enter');
    await bob.waitFor(/saved "later\.txt" to/);
    expect(readFileSync(join(downloads, 'later.txt'), 'utf8')).toBe('for later\n');
  });
});
