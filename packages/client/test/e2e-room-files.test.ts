import { randomBytes } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { e2eRoom } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { Fixture, homeOf, nextEvent } from './helpers.js';

// Files to an end-to-end room travel like direct files: the key, name, size and hash inside a
// sealed room message, the chunks sealed; the server keeps and relays only ciphertext.

const NAME = 'room-file-canary-5d2e.txt';

describe('end-to-end rooms: files', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('offered to every member, saved byte-identical; the server never has the name, the hash or the content', async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bob = await fx.user(s, 'bob');
    const carol = await fx.user(s, 'carol');
    await e2eRoom('vault', alice, bob, carol);
    const marker = `content-canary-${randomBytes(6).toString('hex')}`;
    const content = Buffer.concat([Buffer.from(marker), randomBytes(200_000), Buffer.from(marker)]);
    const path = join(await fx.dir(), NAME);
    await writeFile(path, content);

    const atBob = nextEvent(bob, 'fileOffer', undefined, 20_000);
    const atCarol = nextEvent(carol, 'fileOffer', undefined, 20_000);
    const { fileId } = await alice.sendFile({ room: 'vault' }, path);
    const [offer] = await atBob;
    expect(offer).toMatchObject({ fileId, from: 'alice', target: { room: 'vault' }, name: NAME, size: content.length, e2e: true });
    expect((await atCarol)[0]).toMatchObject({ fileId, name: NAME, e2e: true });

    const saved = await bob.acceptFile(fileId, await fx.dir());
    expect(Buffer.compare(await readFile(saved), content)).toBe(0);
    expect(saved.endsWith(NAME)).toBe(true);

    // The server's view: a nameless, hashless file of sealed chunks; no room message in clear.
    const file = s.store.getFile(fileId)!;
    expect(file).toMatchObject({ name: null, sha512: null, room: 'vault' });
    const chunks = Buffer.concat(
      Array.from({ length: Math.ceil(file.size / (64 * 1024 + 16)) }, (_, i) =>
        Buffer.from(s.store.getFileChunk(fileId, i) ?? new Uint8Array(0)),
      ),
    );
    expect(chunks.length).toBe(file.size);
    expect(chunks.includes(Buffer.from(marker))).toBe(false);
    const stored = JSON.stringify(s.store.history({ room: 'vault' }, { limit: 100 }));
    expect(stored).not.toContain(NAME);
    expect(stored).not.toContain('room-file-canary');
  });

  it('an offer left for later is offered again after a restart, with its sealed name and key (kept 0600 until answered)', async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bobPaths = await fx.paths();
    const bob = await fx.user(s, 'bob', { paths: bobPaths });
    await e2eRoom('vault', alice, bob);
    const content = randomBytes(5000);
    const path = join(await fx.dir(), 'later.bin');
    await writeFile(path, content);
    const offered = nextEvent(bob, 'fileOffer');
    const { fileId } = await alice.sendFile({ room: 'vault' }, path);
    await offered;
    await bob.close();
    const kept = join(homeOf(bobPaths.dataDir, s).state, 'bob.filekeys.json');
    expect((await stat(kept)).mode & 0o777).toBe(0o600);

    const again = await fx.connect(s, { paths: bobPaths });
    const reoffered = nextEvent(again, 'fileOffer', (o) => o.fileId === fileId, 20_000);
    await again.login('bob');
    expect((await reoffered)[0]).toMatchObject({ name: 'later.bin', size: content.length, e2e: true });
    const saved = await again.acceptFile(fileId, await fx.dir());
    expect(Buffer.compare(await readFile(saved), content)).toBe(0);
    await again.close();
    expect(await readFile(kept, 'utf8')).not.toContain(fileId);
  });

  it('a member who joins later is not offered a file sent before (its key stays closed to them)', async () => {
    const s = await fx.unthrottledServer();
    const alice = await fx.user(s, 'alice');
    const bob = await fx.user(s, 'bob');
    await e2eRoom('vault', alice, bob);
    const path = join(await fx.dir(), 'early.bin');
    await writeFile(path, randomBytes(1000));
    const atBob = nextEvent(bob, 'fileOffer');
    await alice.sendFile({ room: 'vault' }, path);
    await atBob;
    const dave = await fx.user(s, 'dave');
    await dave.joinRoom('vault');
    await dave.history({ room: 'vault' });
    expect(dave.pendingFiles()).toEqual([]);
  });
});
