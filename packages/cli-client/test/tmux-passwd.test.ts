// alice changes her own password from hush, without the admin: /passwd asks the current password
// and the new one twice, never drawing them; a wrong current one and two differing new ones change
// nothing; afterwards a new device logs in with the new password. Real hush processes in tmux
// against a real hushd, on the default config.
import { describe, expect, it } from 'vitest';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
const NEW_PASSWORD = 'marmalade telescope vortex';
const WRONG = 'xylophone quokka';
const OTHER = 'zebra quartz jumping';
/** Any word of any password used here, on a screen. */
const showsPassword = (screen: string): boolean =>
  [PASSWORD, NEW_PASSWORD, WRONG, OTHER]
    .flatMap((p) => p.split(' '))
    .filter((word) => word.length > 3)
    .some((word) => screen.includes(word));

describe('hush in tmux: changing your own password', () => {
  it('/passwd asks the current password and the new one twice without drawing them; a new device logs in with the new one', async () => {
    const alice = await bed.loggedIn('alice');

    /** /passwd with the three answers, each typed when its question shows. */
    const passwd = async (current: string, next: string, again: string): Promise<void> => {
      await alice.typeLine('/passwd');
      for (const [question, answer] of [
        ['your current password (it is not shown):', current],
        ['the new password (it is not shown):', next],
        ['the new password again:', again],
      ] as const) {
        await alice.waitFor(question);
        alice.type(answer);
        const typed = await alice.waitFor('*'.repeat(answer.length));
        expect(showsPassword(typed)).toBe(false);
        alice.keys('Enter');
      }
    };

    // At paste speed (one write: a password manager's auto-type, send-keys): every answer still goes
    // into its question, none onto the input line or into the room.
    alice.tmux('send-keys', '-t', alice.name, '-l', `/passwd\r${WRONG}\r${OTHER}\r${OTHER}\r`);
    await alice.waitFor('your password stays as it was: wrong password');
    expect(showsPassword(alice.capture())).toBe(false);
    expect(alice.capture()).not.toContain('<alice>');
    await passwd(WRONG, NEW_PASSWORD, NEW_PASSWORD);
    await alice.waitFor('your password stays as it was: wrong password');
    await passwd(PASSWORD, NEW_PASSWORD, OTHER);
    await alice.waitFor('your password stays as it was: the two new passwords differ');
    await passwd(PASSWORD, NEW_PASSWORD, NEW_PASSWORD);
    const done = await alice.waitFor('password changed: new devices log in with it');
    expect(done).toMatch(/ connected /);

    // Neither the input line's history nor the screen holds a password.
    alice.keys('Up', 'Up', 'Up');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(showsPassword(alice.capture())).toBe(false);

    // A new device of alice's: the old password is refused, the new one logs in.
    const args = ['--host', `127.0.0.1:${bed.server.port}`, '--user', 'alice', '--login', '--fingerprint', bed.server.fingerprint];
    const refused = bed.start(args);
    await refused.waitFor(/wrong username or password|AUTH_FAILED/i);
    const laptop = bed.start(args, { password: NEW_PASSWORD });
    await laptop.waitFor((screen) => screen.includes('#lobby') && / connected /.test(screen), "alice's new device on the chat screen");
  }, 120_000);
});
