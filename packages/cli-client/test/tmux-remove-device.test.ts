// A lost laptop removed by its owner, without the admin: alice has hush on her desk and on her
// laptop; on the desk, /devices remove <laptop id> asks her password (never drawn, even typed ahead
// of the question), then yes or no, and the laptop's hush says it was removed and stays closed. Real hush processes in tmux against a
// real hushd, on the default config.
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { inputLine } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();
const HUSHD = join(dirname(createRequire(import.meta.url).resolve('@hush/server/package.json')), 'dist', 'cli.js');
/** alice's device ids as the admin lists them, oldest first. */
const aliceDevices = async (): Promise<string[]> =>
  (await promisify(execFile)(process.execPath, [HUSHD, 'user', 'devices', 'alice', '--data-dir', bed.dataDir])).stdout
    .trim()
    .split('\n')
    .slice(1)
    .map((row) => row.split('\t')[0]!);
/** `text` on a screen, though the pane may wrap it (its border and gutter between two words). */
const wrapped = (text: string): RegExp =>
  new RegExp(
    text
      .split(' ')
      .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[\\sx┆]+'),
  );
/** Any piece of the password on a screen (it has spaces: a wrapped line splits it). */
const showsPassword = (screen: string): boolean => PASSWORD.split(' ').some((word) => screen.includes(word));

describe('hush in tmux: removing a lost device of your own', () => {
  it('/devices remove asks the password without drawing it, then yes or no; the removed device is closed for good', async () => {
    const { alice: desk, bob } = await bed.aliceAndBob();
    const laptop = await bed.newDevice('alice');
    const [deskId, laptopId] = await aliceDevices();

    /** `/devices remove id`, Enter and `password` in one write to the terminal (typed ahead of the question). */
    const remove = (tui: typeof desk, id: string, password: string) =>
      tui.tmux('send-keys', '-t', tui.name, '-l', `/devices remove ${id}\r${password}`);

    // Its own device cannot be removed from the desk: said before any password is asked.
    await desk.typeLine(`/devices remove ${deskId}`);
    const own = await desk.waitFor(wrapped(`${deskId} is this device: remove it from another of your devices`));
    expect(own).not.toContain('your password (it is not shown)'); // the question (the new-device warning in front names the password too)
    await desk.waitFor(wrapped('Nothing was asked'), 'the refusal in a dialog');
    desk.keys('Escape');
    await desk.waitFor((s) => !wrapped('Nothing was asked').test(s), 'the dialog closed');

    // A word that is no device id, the password and Enter typed ahead in one write: refused at once, in
    // a dialog that takes the password, so nothing reaches the conversation.
    desk.tmux('send-keys', '-t', desk.name, '-l', `/devices remove phone\r${PASSWORD}\r`);
    await desk.waitFor(wrapped('phone is not a device id'));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await desk.waitFor((s) => !wrapped('Nothing was asked').test(s), 'the Enter typed ahead closed the dialog');
    const afterTypo = desk.capture();
    expect(showsPassword(afterTypo)).toBe(false);
    expect(inputLine(afterTypo)).toMatch(/^>\s*$/);
    expect(afterTypo).not.toContain('<alice>');
    expect(bob.capture()).not.toContain('<alice>');

    // A wrong password: refused in words after the yes, the laptop stays.
    remove(desk, laptopId!, 'not my password');
    await desk.waitFor('your password (it is not shown), to remove');
    await desk.waitFor('*'.repeat('not my password'.length));
    desk.keys('Enter');
    await desk.waitFor('[y] yes');
    desk.keys('y');
    await desk.waitFor(wrapped(`the device ${laptopId} stays: wrong password`));
    expect(laptop.capture()).toMatch(/ connected /);

    // The right password, then no; then the right password and yes.
    remove(desk, laptopId!, PASSWORD);
    await desk.waitFor('*'.repeat(PASSWORD.length));
    desk.keys('Enter');
    await desk.waitFor('[y] yes');
    desk.keys('n');
    await desk.waitFor(wrapped(`the device ${laptopId} stays: you said no`));
    // Tab completes the other device's id (this one's is never offered).
    desk.type('/devices remove ');
    desk.keys('Tab');
    const completed = (screen: string) => inputLine(screen).endsWith(`/devices remove ${laptopId}`);
    await desk.waitFor(completed, 'the laptop id completed');
    desk.keys('Tab'); // the only candidate: it stays
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(completed(desk.capture())).toBe(true);
    desk.keys('Enter');
    await desk.waitFor('your password (it is not shown), to remove');
    desk.type(PASSWORD);
    const typed = await desk.waitFor('*'.repeat(PASSWORD.length));
    expect(showsPassword(typed)).toBe(false);
    desk.keys('Enter');
    const question = await desk.waitFor('[y] yes');
    expect(question).toMatch(wrapped(`Remove the device ${laptopId} from your account?`));
    desk.keys('y');
    const done = await desk.waitFor(wrapped(`removed the device ${laptopId}`));
    expect(showsPassword(done)).toBe(false);

    await laptop.waitFor((s) => s.includes('closed for good: this device was removed from the') && s.includes('[DEVICE_UNKNOWN]'));
    // It stays closed: no reconnect brings it back.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(laptop.capture()).not.toMatch(/ connected |reconnecting/);
    await desk.typeLine('/devices');
    await desk.waitFor('your devices (1)');
    await bob.typeLine('/devices alice');
    const seen = await bob.waitFor('devices of alice (1)');
    expect(seen).toContain(deskId);
    expect(seen).not.toContain(laptopId);

    // Neither the input line's history nor any screen holds the password.
    desk.keys('Up', 'Up', 'Up');
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const tui of [desk, laptop, bob]) expect(showsPassword(tui.capture())).toBe(false);
  }, 120_000);
});
