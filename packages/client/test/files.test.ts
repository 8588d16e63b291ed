import { randomBytes } from 'node:crypto';
import { readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer } from '@hush/server';
import { sharedServer } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import type { Target } from '../src/types.js';
import { collect, Fixture, nextEvent, sentAndShown } from './helpers.js';

describe('files', () => {
  const fx = new Fixture();
  const server = sharedServer(startTestServer, fx);

  /** A file `name` holding `content`, in a folder of its own; its path. */
  async function fileOf(name: string, content: string | Uint8Array): Promise<string> {
    const path = join(await fx.dir(), name);
    await writeFile(path, content);
    return path;
  }

  /** `from` offers the file at `path` to `target`; resolves once `to` has the offer. */
  async function offered(from: HushClient, to: HushClient, target: Target, path: string) {
    const offer = nextEvent(to, 'fileOffer');
    const { fileId } = await from.sendFile(target, path);
    return { fileId, offer: (await offer)[0] };
  }

  it('two uploads at once: each says its fileId with its own path (fileSending) before its first chunk', async () => {
    const twin = await fx.user(server, 'twin');
    await fx.user(server, 'twinpeer');
    const big = await fileOf('big.bin', randomBytes(2_000_000));
    const small = await fileOf('small.txt', 'small');
    const sending = collect(twin, 'fileSending');
    const order: string[] = [];
    twin.on('fileSending', (u) => order.push(`offered ${u.fileId}`));
    twin.on('fileProgress', (p) => order.push(`chunk ${p.fileId}`));
    const [a, b] = await Promise.all([twin.sendFile({ user: 'twinpeer' }, big), twin.sendFile({ user: 'twinpeer' }, small)]);
    expect(sending).toEqual(
      expect.arrayContaining([
        { fileId: a.fileId, target: { user: 'twinpeer' }, path: big, size: 2_000_000 },
        { fileId: b.fileId, target: { user: 'twinpeer' }, path: small, size: 5 },
      ]),
    );
    expect(sending).toHaveLength(2);
    // Said before any progress of its own.
    for (const { fileId } of [a, b]) expect(order.indexOf(`offered ${fileId}`)).toBeLessThan(order.indexOf(`chunk ${fileId}`));
  });

  it('a direct file is end to end: offer, accept, byte-identical, never overwrites, ignores a planted symlink', async () => {
    const alice = await fx.user(server, 'alice');
    const bob = await fx.user(server, 'bob');
    const src = await fx.dir();
    const content = randomBytes(300_000);
    const path = join(src, 'photo.jpg');
    await writeFile(path, content);
    const downloads = await fx.dir();
    await writeFile(join(downloads, 'photo.jpg'), 'already here');
    await symlink(join(src, 'target-outside'), join(downloads, 'photo (1).jpg'));

    const offered = nextEvent(bob, 'fileOffer');
    const upProgress = collect(alice, 'fileProgress');
    const statuses = collect(alice, 'fileStatus');
    const { fileId } = await alice.sendFile({ user: 'bob' }, path);
    const [offer] = await offered;
    // `target` names the conversation, as everywhere in the SDK: for bob, the one with alice (a bot
    // that answers an offer through its target must not write to itself).
    expect(offer).toMatchObject({ fileId, from: 'alice', target: { user: 'alice' }, name: 'photo.jpg', size: content.length, e2e: true });
    expect(bob.pendingFiles()[0]?.target).toEqual({ user: 'alice' });
    expect(bob.pendingFiles().map((f) => f.fileId)).toEqual([fileId]);
    expect(upProgress.at(-1)).toEqual({ fileId, direction: 'up', bytes: content.length, size: content.length });

    const downloaded = nextEvent(alice, 'fileStatus', (s) => s.status === 'downloaded');
    const saved = await bob.acceptFile(fileId, downloads);
    expect(saved).toBe(join(downloads, 'photo (2).jpg'));
    expect(Buffer.compare(await readFile(saved), content)).toBe(0);
    expect(await readFile(join(downloads, 'photo.jpg'), 'utf8')).toBe('already here');
    await expect(readFile(join(src, 'target-outside'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await readdir(downloads)).filter((n) => n.endsWith('.part'))).toEqual([]);
    await downloaded;
    // 'downloaded' is bob's confirmation of the verified save, after the accept.
    expect(statuses.map((s) => s.status)).toEqual(['accepted', 'downloaded']);
    expect(bob.pendingFiles()).toEqual([]);

    // The server never had the plaintext.
    const db = await readFile(join(server.dataDir, 'hush.db'));
    expect(db.includes(content.subarray(1000, 1064))).toBe(false);
  });

  it('a room file reaches the member with a traversal name saved inside the folder; decline works', async () => {
    const alice = await fx.user(server, 'carl');
    const bob = await fx.user(server, 'dina');
    const path = await fileOf('notes.txt', 'hello room');
    const { fileId, offer } = await offered(alice, bob, { room: 'lobby' }, path);
    // lobby is end to end: so is its file (name and key in a sealed room message).
    expect(offer).toMatchObject({ fileId, from: 'carl', target: { room: 'lobby' }, name: 'notes.txt', size: 10, e2e: true });
    const dir = await fx.dir();
    const saved = await bob.acceptFile(fileId, dir);
    expect(saved).toBe(join(dir, 'notes.txt'));
    expect(await readFile(saved, 'utf8')).toBe('hello room');

    const declined = nextEvent(alice, 'fileStatus', (s) => s.status === 'declined');
    const { fileId: id2 } = await offered(alice, bob, { room: 'lobby' }, path);
    await bob.declineFile(id2);
    expect((await declined)[0]).toEqual({ fileId: id2, user: 'dina', status: 'declined' });
    expect(bob.pendingFiles()).toEqual([]);
  });

  it('an oversized file is refused before any chunk is sent', async () => {
    const small = await startTestServer({ maxFileSize: 1000 });
    try {
      const alice = await fx.user(small, 'erik');
      const path = await fileOf('big.bin', randomBytes(5000));
      await expect(alice.sendFile({ room: 'lobby' }, path)).rejects.toMatchObject({ code: 'FILE_TOO_LARGE' });
    } finally {
      await small.stop();
    }
  });
  it('cancel from the sender: a pending offer is withdrawn (receiver gets fileCancelled, nothing to accept or save)', async () => {
    const alice = await fx.user(server, 'fay');
    const bob = await fx.user(server, 'gus');
    const { fileId } = await offered(alice, bob, { user: 'gus' }, await fileOf('draft.txt', 'not for you after all'));
    const cancelled = nextEvent(bob, 'fileCancelled', (c) => c.fileId === fileId);
    await alice.cancelFile(fileId);
    expect((await cancelled)[0]).toMatchObject({ fileId, by: 'fay' });
    expect(bob.pendingFiles().map((f) => f.fileId)).not.toContain(fileId);
    const dir = await fx.dir();
    await expect(bob.acceptFile(fileId, dir)).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    expect(await readdir(dir)).toEqual([]);
  });

  it('cancel from the sender mid-upload: sendFile rejects with FILE_CANCELLED and no offer ever reaches the room', async () => {
    const alice = await fx.user(server, 'hal');
    const bob = await fx.user(server, 'ivy');
    const path = await fileOf('big.bin', randomBytes(3 * 1024 * 1024));
    const offers = collect(bob, 'fileOffer');
    let cancelling: Promise<void> | undefined;
    alice.on('fileProgress', (p) => {
      if (p.direction === 'up' && !cancelling) cancelling = alice.cancelFile(p.fileId);
    });
    await expect(alice.sendFile({ room: 'lobby' }, path)).rejects.toMatchObject({ code: 'FILE_CANCELLED' });
    await cancelling;
    // A message sent after the cancel arrives; an offer would have come before it.
    await sentAndShown(alice, bob, 'after the cancel', 'lobby');
    expect(offers).toEqual([]);
  });

  it('cancel from the receiver mid-download: acceptFile rejects, no file under the final name, no half file', async () => {
    const alice = await fx.user(server, 'jon');
    const bob = await fx.user(server, 'kim');
    const statuses = collect(alice, 'fileStatus');
    const errors = collect(bob, 'error');
    const { fileId } = await offered(alice, bob, { user: 'kim' }, await fileOf('movie.bin', randomBytes(2 * 1024 * 1024)));
    const dir = await fx.dir();
    let cancelling: Promise<void> | undefined;
    const progress = collect(bob, 'fileProgress');
    bob.on('fileProgress', (p) => {
      if (p.direction === 'down' && !cancelling) cancelling = bob.cancelFile(p.fileId);
    });
    const accepted = nextEvent(alice, 'fileStatus', (s) => s.status === 'accepted');
    const cancelled = nextEvent(alice, 'fileStatus', (s) => s.status === 'cancelled');
    await expect(bob.acceptFile(fileId, dir)).rejects.toMatchObject({ code: 'FILE_CANCELLED' });
    await cancelling;
    await accepted;
    expect((await cancelled)[0]).toEqual({ fileId, user: 'kim', status: 'cancelled' });
    // Round trip after the cancel: any chunk still in flight was handled before this message.
    await sentAndShown(alice, bob, 'still there?');
    expect(progress.filter((p) => p.direction === 'down').length).toBe(1);
    expect(await readdir(dir)).toEqual([]);
    // The sender saw the accept and the cancel, never a download (even if every chunk went out).
    expect(statuses.map((s) => s.status)).toEqual(['accepted', 'cancelled']);
    expect(errors).toEqual([]);
    expect(bob.pendingFiles().map((f) => f.fileId)).not.toContain(fileId);
  });

  it('a file that fails the hash check is not reported downloaded: the sender hears cancelled', async () => {
    const alice = await fx.user(server, 'lou');
    const bob = await fx.user(server, 'mia');
    const statuses = collect(alice, 'fileStatus');
    const { fileId } = await offered(alice, bob, { room: 'lobby' }, await fileOf('data.bin', randomBytes(100_000)));
    // Damaged at rest on the server: the bytes no longer match the offer's SHA-512.
    server.store.putFileChunk(fileId, 0, randomBytes(64 * 1024));
    const cancelled = nextEvent(alice, 'fileStatus', (s) => s.status === 'cancelled');
    const corrupt = nextEvent(bob, 'error', (e) => e.code === 'FILE_CORRUPT');
    const dir = await fx.dir();
    await expect(bob.acceptFile(fileId, dir)).rejects.toMatchObject({ code: 'FILE_CORRUPT' });
    await corrupt;
    expect((await cancelled)[0]).toEqual({ fileId, user: 'mia', status: 'cancelled' });
    // Round trip: a 'downloaded' would have come before this message.
    await sentAndShown(bob, alice, 'got it?');
    expect(statuses.map((s) => s.status)).toEqual(['accepted', 'cancelled']);
    expect(await readdir(dir)).toEqual([]);
  });
});
