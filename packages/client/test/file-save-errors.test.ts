// Files that cannot be offered, and folders that cannot be saved into, are refused in words, over
// a real socket against a real hushd; a refused folder leaves the offer open for another one.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer } from '@hush/server';
import { sharedServer, smallDisk } from '@hush/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import { Fixture, nextEvent } from './helpers.js';

// A 256 KiB file system to fill (where root can mount one).
const small = smallDisk('256k');
const disk = small?.dir;
afterAll(() => small?.remove());

describe('file errors in words', () => {
  const fx = new Fixture();
  const server = sharedServer(startTestServer, fx);

  /** `alice` offers bob a file; resolves with its id once bob has the offer. */
  async function offerToBob(alice: HushClient, bob: HushClient, text = 'small file'): Promise<string> {
    const path = join(await fx.dir(), 'small.txt');
    await writeFile(path, text);
    const offer = nextEvent(bob, 'fileOffer');
    const { fileId } = await alice.sendFile({ user: bob.user! }, path);
    await offer;
    return fileId;
  }

  it('a save folder that is a file is refused before the offer is taken: the offer stays open for a good folder', async () => {
    const alice = await fx.user(server, 'ann');
    const bob = await fx.user(server, 'ben');
    const fileId = await offerToBob(alice, bob);
    const aFile = join(await fx.dir(), 'not-a-folder');
    await writeFile(aFile, 'x');

    await expect(bob.acceptFile(fileId, aFile)).rejects.toMatchObject({
      code: 'FILE_IO',
      message: `cannot save into ${aFile}: it is a file, not a folder`,
    });
    await expect(bob.acceptFile(fileId, join(aFile, 'below'))).rejects.toMatchObject({
      message: `cannot save into ${join(aFile, 'below')}: ${aFile} is a file, not a folder`,
    });
    expect(bob.pendingFiles().map((f) => f.fileId)).toEqual([fileId]);

    const good = join(await fx.dir(), 'new', 'deeper');
    const saved = await bob.acceptFile(fileId, good);
    expect(saved).toBe(join(good, 'small.txt'));
    expect(await readFile(saved, 'utf8')).toBe('small file');
  });

  it.runIf(process.platform === 'linux')(
    'a folder that cannot be created (under /proc) fails in words instead of hanging; the offer stays open',
    async () => {
      const alice = await fx.user(server, 'eve');
      const bob = await fx.user(server, 'fox');
      const fileId = await offerToBob(alice, bob);
      await expect(bob.acceptFile(fileId, '/proc/hush-no-such/folder')).rejects.toMatchObject({
        code: 'FILE_IO',
        message: expect.stringMatching(/^cannot save into \/proc\/hush-no-such\/folder: (no such folder|permission denied)$/),
      });
      expect(bob.pendingFiles().map((f) => f.fileId)).toEqual([fileId]);
      const saved = await bob.acceptFile(fileId, await fx.dir());
      expect(await readFile(saved, 'utf8')).toBe('small file');
    },
    20_000,
  );

  it.runIf(disk !== undefined)(
    'a disk that fills up mid-download is said as such, not as a corrupt file; nothing is left on it and the offer stays open',
    async () => {
      const alice = await fx.user(server, 'hal');
      const bob = await fx.user(server, 'ivy');
      const path = join(await fx.dir(), 'big.bin');
      await writeFile(path, randomBytes(8 * 1024 * 1024));
      const offer = nextEvent(bob, 'fileOffer');
      const { fileId } = await alice.sendFile({ user: 'ivy' }, path);
      await offer;
      await expect(bob.acceptFile(fileId, disk)).rejects.toMatchObject({
        code: 'FILE_IO',
        message: `cannot save into ${disk}: the disk is full`,
      });
      expect(await readdir(disk!)).toEqual([]);
      // The offer stays open: saved whole into a folder with room, at once (the first stream may still run).
      expect(bob.pendingFiles().map((f) => f.fileId)).toEqual([fileId]);
      const saved = await bob.acceptFile(fileId, await fx.dir());
      expect(Buffer.compare(await readFile(saved), await readFile(path))).toBe(0);
    },
  );

  it('a missing file, a folder and an oversized file are refused in words', async () => {
    const alice = await fx.user(server, 'gil');
    const dir = await fx.dir();
    const missing = join(dir, 'missing.txt');
    await expect(alice.sendFile({ room: 'lobby' }, missing)).rejects.toMatchObject({
      code: 'FILE_IO',
      message: `no such file: ${missing}`,
    });
    const folder = join(dir, 'somedir');
    await mkdir(folder);
    await expect(alice.sendFile({ room: 'lobby' }, folder)).rejects.toMatchObject({
      code: 'FILE_IO',
      message: `${folder} is a folder, not a file`,
    });

    const small = await startTestServer({ maxFileSize: 10 * 1024 * 1024 });
    try {
      const erik = await fx.user(small, 'erik');
      const big = join(dir, 'big.bin');
      await writeFile(big, randomBytes(10 * 1024 * 1024 + 1));
      await expect(erik.sendFile({ user: 'erik' }, big)).rejects.toMatchObject({
        code: 'FILE_TOO_LARGE',
        message: 'big.bin is just over 10 MiB (10485761 bytes); this server accepts files up to 10 MiB (10485760 bytes)',
      });
    } finally {
      await small.stop();
    }
  });
});
