// The words hush says on screen for the same thing stay the same, through real `hush` processes in
// tmux against a real hushd: an unknown user, a user who never logged in, presence texts, notes to
// yourself, an open room's join, an edit's original, and the chat list's cut names.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HushTui } from '@hush/test-kit';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install({ openRooms: ['announcements'] });

/** Wide enough that no notice of these tests wraps: each is found on one row. */
async function wide(user: string): Promise<HushTui> {
  const tui = await bed.loggedIn(user);
  tui.resize(300, 40);
  await tui.waitFor((x) => x.split('\n')[1]!.length > 250, 'the wide screen');
  return tui;
}

const count = (screen: string, text: string): number => screen.split(text).length - 1;

/** `hushd user add` beside the running server, as an admin adds someone who has not logged in yet. */
function addUser(name: string): void {
  const hushd = join(dirname(createRequire(import.meta.url).resolve('@hush/server/package.json')), 'dist', 'cli.js');
  const r = spawnSync(process.execPath, [hushd, 'user', 'add', name, '--password-stdin', '--data-dir', bed.dataDir], {
    input: `${PASSWORD}\n`,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: bed.dataDir, HUSH_SCRYPT_N: String(2 ** 12) },
    timeout: 30_000,
  });
  expect(r.stdout).toBe(`added ${name} (user)\n`);
}

describe('hush in tmux: one wording for one thing', () => {
  it('an unknown user gets the same words from every command; one who never logged in is said so, and is reached once they have', async () => {
    const eve = await wide('eve');
    const unknown = 'no user zed [NOT_FOUND]';
    for (const [i, line] of ['/whois zed', '/verify zed', '/query zed', '/msg zed are you there?', '/ignore zed'].entries()) {
      await eve.typeLine(line);
      await eve.waitFor((x) => count(x, unknown) === i + 1, `${line}: ${unknown}`);
    }
    let screen = eve.capture();
    expect(screen).toContain(`not sent to zed: "are you there?" — ${unknown}`);
    expect(screen).not.toContain('ignoring zed');
    expect(screen).not.toMatch(/@zed/);

    addUser('henry');
    // Ignoring needs no one online: henry exists, and has never logged in.
    await eve.typeLine('/ignore henry');
    await eve.waitFor('ignoring henry: their messages and file offers are hidden');
    await eve.typeLine('/unignore henry');
    await eve.waitFor('henry is no longer ignored');

    await eve.typeLine('/whois henry');
    screen = await eve.waitFor('end-to-end: henry has not logged in on any device yet: no safety number to compare until they have');
    expect(screen).not.toContain('/verify henry');
    await eve.typeLine('/verify henry');
    await eve.waitFor('henry has not logged in on any device yet: there is no safety number to compare until they have [E2E_NO_DEVICES]');
    await eve.typeLine('/msg henry hello henry');
    await eve.waitFor(
      'not sent to henry: "hello henry" — henry has not logged in on any device yet: messages can be sent once they have [E2E_NO_DEVICES]. /retry sends it again.',
    );

    const henry = bed.start([
      '--host',
      `127.0.0.1:${bed.server.port}`,
      '--user',
      'henry',
      '--login',
      '--fingerprint',
      bed.server.fingerprint,
    ]);
    await henry.waitFor((x) => x.includes('#lobby') && / connected /.test(x), 'henry on the chat screen');
    await eve.typeLine('/retry');
    await henry.waitFor(/3\.@eve/);
    await henry.typeLine('/query eve');
    await henry.waitFor('<eve> hello henry');
  }, 120_000);

  it('/status while away says it replaces the away text; /msg to yourself opens notes to yourself; the first edit says the original stays', async () => {
    const eve = await wide('eve');
    await eve.typeLine('/away lunch break');
    await eve.waitFor('you are marked away: lunch break (/back when you return)');
    await eve.typeLine('/status coding in rust 🦀');
    await eve.waitFor(
      'status set: coding in rust 🦀; it replaces your away text "lunch break" (one status text shows at a time). You are still away: /back when you return',
    );
    await eve.typeLine('/users');
    await eve.waitFor('eve away — coding in rust 🦀');
    await eve.typeLine('/back');
    await eve.waitFor('you are marked online; your status text stays: "coding in rust 🦀"');
    await eve.typeLine('/status');
    await eve.waitFor('you are online; your status text is "coding in rust 🦀" (/status - clears it)');

    await eve.typeLine('/msg eve buy oat milk');
    await eve.waitFor(/3\.@eve/);
    await eve.typeLine('/query eve');
    const notes = await eve.waitFor((x) => x.includes('hush  @eve') && x.includes('<eve> buy oat milk'));
    expect(notes).toContain('notes to yourself: what you send here is end-to-end encrypted and reaches only your own devices');
    expect(notes).toContain('notes to yourself: end-to-end encrypted to your own devices'); // the status bar
    expect(notes).not.toContain('(unverified)');

    const hint = 'edited: the original text stays in the history of everyone who received it (only /delete erases a message)';
    await eve.typeLine('/edit 1 buy soy milk');
    await eve.waitFor((x) => x.includes('buy soy milk (edited)') && x.includes(hint));
    await eve.typeLine('/edit 1 buy rice milk');
    await eve.waitFor('buy rice milk (edited)');
    expect(count(eve.capture(), hint)).toBe(1); // said once
    await eve.typeLine('/help edit');
    await eve.waitFor('The original stays in the history of everyone who received it: /delete erases');
  }, 120_000);

  it('joining an open room says it is open, like an end-to-end room says it is sealed; at 80 columns its name is cut with room to spare', async () => {
    const eve = await wide('eve');
    await eve.typeLine('/join #announcements');
    await eve.waitFor(
      '#announcements is an open room: encrypted in transit, readable by the server (not end-to-end); you read its earlier messages too',
    );
    eve.resize(80, 24);
    const screen = await eve.waitFor((x) => x.split('\n')[1]!.length <= 80 && x.includes('3.#'), 'the 80-column screen');
    expect(screen).toContain('x3.#announcem… x');
  }, 120_000);
});
