// File errors in words, driven through real `hush` processes in tmux against a real hushd: a save
// folder that cannot be used leaves the offer open for another folder, and so does a disk that fills
// up during the download; a path that is no file, or a file over the server's limit, is refused naming it.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { smallDisk, type HushTui } from '@hush/test-kit';
import { TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install({ maxFileSize: 64 * 1024 });
// 16 KiB to fill (where root can mount a tmpfs).
const small = smallDisk('16k');
afterAll(() => small?.remove());

/** alice offers `name` to #lobby; bob answers the prompt with "later". */
async function offerLater(alice: HushTui, bob: HushTui, name: string, content: string): Promise<void> {
  writeFileSync(join(alice.home, name), content);
  await alice.typeLine(`/file ~/${name}`);
  await bob.waitFor((s) => s.includes(`alice offers "${name}"`) && s.includes('[l] later'));
  bob.keys('l');
  await bob.waitFor(`file offer from alice: "${name}"`);
}

const count = (screen: string, text: string): number => screen.split(text).length - 1;

describe('hush in tmux: file errors in words', () => {
  it('a save folder that is a file is refused in words; the offer stays open and /accept into a good folder saves it', async () => {
    const { alice, bob } = await bed.aliceAndBob();
    await offerLater(alice, bob, 'small.txt', 'hello there');
    writeFileSync(join(bob.home, 'afile'), 'x');

    await bob.typeLine('/accept small.txt ~/afile');
    const refused = await bob.waitFor('/afile: it is a file, not a'); // the line wraps in the pane
    expect(count(refused, 'cannot save into')).toBe(1);
    expect(refused).not.toMatch(/EEXIST|ENOTDIR|failed/);

    await bob.typeLine('/accept small.txt ~/saved');
    await bob.waitFor(/saved "small\.txt" to/);
    expect(readFileSync(join(bob.home, 'saved', 'small.txt'), 'utf8')).toBe('hello there');
    expect(bob.capture()).not.toContain('is not an open offer');
  }, 90_000);

  it.runIf(process.platform === 'linux')(
    'a folder that cannot be created (under /proc) fails in words at once instead of sitting at 0%',
    async () => {
      const { alice, bob } = await bed.aliceAndBob();
      await offerLater(alice, bob, 'other.txt', 'second');
      await bob.typeLine('/accept other.txt /proc/hush-nope');
      await bob.waitFor(/cannot save into \/proc\/hush-nope: (no such folder|permission denied)/);
      await bob.typeLine('/accept other.txt ~/in');
      await bob.waitFor(/saved "other\.txt" to/);
      expect(readFileSync(join(bob.home, 'in', 'other.txt'), 'utf8')).toBe('second');
    },
    90_000,
  );

  it('/file of a missing path, of a folder, and of a file over the limit say so, naming it', async () => {
    const alice = await bed.loggedIn('alice');
    await alice.typeLine('/file ~/missing.txt');
    await alice.waitFor(`no such file: ${join(alice.home, 'missing.txt')}`);
    mkdirSync(join(alice.home, 'somedir'));
    await alice.typeLine('/file ~/somedir');
    await alice.waitFor(`${join(alice.home, 'somedir')} is a folder, not a file`);
    writeFileSync(join(alice.home, 'big.bin'), Buffer.alloc(100 * 1024, 1));
    await alice.typeLine('/file ~/big.bin');
    const screen = await alice.waitFor('big.bin is 100 KiB; this server accepts files up to 64 KiB');
    expect(screen).not.toMatch(/ENOENT|EISDIR|the limit is \d+ bytes/);
  }, 90_000);

  it.runIf(small !== undefined)(
    'a disk that fills up during the download is said once, in words; the offer stays open and saves into a folder with room',
    async () => {
      const { alice, bob } = await bed.aliceAndBob();
      const content = Buffer.alloc(60 * 1024, 7);
      writeFileSync(join(alice.home, 'big.bin'), content);
      await alice.typeLine('/file ~/big.bin');
      await bob.waitFor((s) => s.includes('alice offers "big.bin"') && s.includes('[l] later'));
      bob.keys('l');
      await bob.waitFor('file offer from alice: "big.bin"');
      await bob.typeLine(`/accept big.bin ${small!.dir}`);
      const full = await bob.waitFor(/the disk is\s+(\S+\s+)?full/);
      expect(full).not.toMatch(/corrupt|only alice can offer it again/);
      expect(count(full.replace(/\s+\S\s+/g, ' '), 'the disk is')).toBe(1);
      await bob.typeLine('/accept big.bin ~/dl');
      await bob.waitFor(/saved "big\.bin" to/);
      expect(readFileSync(join(bob.home, 'dl', 'big.bin'))).toEqual(content);
    },
    90_000,
  );
});
