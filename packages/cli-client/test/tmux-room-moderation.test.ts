// Rooms and moderation as a server admin and a new user meet them: what each command says, in the
// pane it was typed in, and nothing left unsaid when the pane it concerns is not the one in front.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { quit, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install({ openRooms: ['announcements'] });

describe('hush in tmux: rooms and moderation', () => {
  it('an admin never bans herself; a ban typed where the banned user is not is said there', async () => {
    await bed.adminClient('alice');
    const alice = await bed.newDevice('alice');
    const bob = await bed.loggedIn('bob');
    await alice.waitFor('bob joined #lobby');
    // Tab offers her own name as readily as bob's.
    await alice.typeLine('/ban alice');
    await alice.waitFor('you cannot ban yourself [FORBIDDEN]');
    // #quiet is hers alone: the rooms bob is in say the ban, this pane would say nothing. Made with
    // a topic, it is not said as needing one.
    await alice.typeLine('/create #quiet Only alice here');
    const created = await alice.waitFor('you created #quiet, end-to-end encrypted, and are its owner');
    expect(created).not.toContain('/topic sets its topic');
    await alice.typeLine('/ban bob spam');
    await bob.waitFor('you were banned from this server: spam');
    // A command he types then says why it cannot be done, as a line he sends does.
    await bob.typeLine('/join #quiet');
    await bob.waitFor('not done: you were banned from this server: spam');
    await alice.waitFor('banned bob from the server (spam)');
    alice.keys('M-2');
    const lobby = await alice.waitFor('bob was banned from the server by alice (spam)');
    // The lobby, which lists bob, says it once, in its own words.
    expect(lobby).not.toContain('banned bob from the server');
  }, 90_000);

  it('a person banned for an hour reads why and until when, as it happens and at the login form', async () => {
    const admin = await bed.adminClient('warden');
    const home = bed.keptHome();
    const first = await bed.launch('dave', home, true);
    await admin.ban({ user: 'dave', reason: 'flooding', seconds: 3600 });
    await first.waitFor(/you were banned from this server: flooding \(until \d{4}-\d\d-\d\d/);
    await quit(first);
    const dave = bed.start(
      ['--host', `127.0.0.1:${bed.server.port}`, '--user', 'dave', '--login', '--fingerprint', bed.server.fingerprint],
      { home },
    );
    // The form wraps it: why and the date on one row, the rest on the next.
    await dave.waitFor(
      (s) => /this account is banned: flooding \(until \d{4}-\d\d-\d\d/.test(s) && s.includes('UTC) [BANNED]'),
      'the ban in words on the form',
    );
  }, 90_000);

  it('a muted person who sends a file reads the refusal once, on the file line', async () => {
    const { bob } = await bed.bobMutedInQuiet();
    const file = join(bed.dataDir, 'notes.txt');
    writeFileSync(file, 'while muted');
    await bob.typeLine(`/file ${file}`);
    await bob.waitFor('file "notes.txt" failed: muted in #quiet');
    await new Promise((r) => setTimeout(r, 500)); // a second saying would come with the first
    expect((await bob.waitFor('[MUTED]')).split('[MUTED]').length - 1).toBe(1);
  }, 90_000);

  it('at 80x24: /rooms tells end-to-end rooms from open ones, /part of your own room asks and says where you went, /invite says why there is none', async () => {
    const carol = await bed.loggedIn('carol');
    carol.resize(80, 24);
    await carol.typeLine('/join #dev');
    await carol.waitFor('#dev did not exist: you created it');
    await carol.typeLine('/create #dev');
    await carol.waitFor('#dev exists already: /join #dev joins it');
    // Pasted, as from a note of commands to try.
    carol.paste('/rooms');
    await carol.waitFor((s) => s.includes('> /rooms'), '/rooms in the input line');
    carol.keys('Enter');
    await carol.waitFor('#announcements [open: readable by the server] (0)');
    await carol.waitFor('#lobby 🔒 (1) [joined]');
    await carol.waitFor('#dev 🔒 (1) [joined]');
    // She owns #dev, and may not /deop herself: only an owner sets roles, so it would be for good.
    await carol.typeLine('/deop carol');
    await carol.waitFor('you cannot change your own role [FORBIDDEN]');
    // Leaving would give the role up for good too, so /part asks first, as /help says.
    await carol.typeLine('/help part');
    await carol.waitFor('leave a room (one you own asks');
    await carol.typeLine('/part');
    await carol.waitFor('you own #dev: leaving gives');
    await carol.waitFor('[y] yes');
    carol.keys('n');
    await carol.waitFor('you stay in #dev');
    await carol.typeLine('/part');
    await carol.waitFor('[y] yes');
    carol.keys('y');
    await carol.waitFor((s) => s.includes('you left #dev') && /^ hush {2}#lobby/.test(s), 'you left #dev, said in #lobby');
    await carol.typeLine('/invite dave');
    await carol.waitFor('/invite is not needed: every user of the');
    // An open room's bar says it is readable by the server at 80 columns too (the whole text does not fit).
    await carol.typeLine('/join #announcements');
    await carol.waitFor(/ #announcements . open room: readable by the server/, 'the short form in the bar');
  }, 90_000);
});
