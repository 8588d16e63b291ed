// File sharing end to end through the real SDK and a real hushd: a 10 MB direct file arrives
// byte-identical while room messages keep flowing in both directions, and a room file reaches every
// member of the room.
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HushClient } from '@hush/client';
import { startTestServer } from '@hush/server';
import { sharedServer } from '@hush/test-kit';
import { describe, expect, it } from 'vitest';
import { collectMessages, nextEvent, SdkFixture, until } from './helpers-net/sdk.js';

describe('file sharing end to end', () => {
  const fx = new SdkFixture();
  const server = sharedServer(startTestServer, fx);

  const user = (name: string): Promise<HushClient> => fx.user(server, server.fingerprint, name);

  it('a 10 MB direct file arrives byte-identical while room messages keep flowing', async () => {
    const [alice, bob, carol] = await Promise.all([user('alice'), user('bob'), user('carol')]);
    const src = await fx.dir();
    const content = randomBytes(10 * 1024 * 1024);
    const path = join(src, 'big.bin');
    await writeFile(path, content);

    const offered = nextEvent(bob, 'fileOffer', undefined, 30_000);
    await alice.sendFile({ user: 'bob' }, path);
    const [offer] = await offered;
    expect(offer).toMatchObject({ from: 'alice', size: content.length, e2e: true });

    // lobby is end to end: carol's first line there hands her sender key to every member device
    // first (session setups); sent before the download, so the chat below flows at its own pace.
    const warm = nextEvent(bob, 'message', (m) => m.from === 'carol', 30_000);
    await carol.send('lobby', 'before the file');
    await warm;

    // Chat between carol and bob runs during the whole download; bob must see it while the
    // file is still arriving, not after.
    const seenByBob = collectMessages(bob);
    let downloading = true;
    let chatDuringDownload = 0;
    bob.on('message', (m) => {
      if (downloading && m.from === 'carol') chatDuringDownload++;
    });
    const sentIds: string[] = [];
    const chat = (async () => {
      for (let i = 0; downloading && i < 400; i++) {
        sentIds.push((await carol.send('lobby', `during transfer ${i}`)).id);
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const progress: number[] = [];
    bob.on('fileProgress', (p) => {
      if (p.fileId === offer.fileId) progress.push(p.bytes);
    });
    const saved = await bob.acceptFile(offer.fileId, await fx.dir());
    downloading = false;
    await chat;

    expect(Buffer.compare(await readFile(saved), content)).toBe(0);
    expect(chatDuringDownload).toBeGreaterThan(0);
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toBe(content.length);
    // Every message carol got acknowledged reached bob exactly once, in order.
    const fromCarol = () => seenByBob.filter((m) => m.from === 'carol').map((m) => m.id);
    await until(() => fromCarol().length >= sentIds.length);
    expect(fromCarol()).toEqual(sentIds);
  }, 60_000);

  it('a room file reaches every member of the room', async () => {
    const [dan, eve, fay, gus] = await Promise.all([user('dan'), user('eve'), user('fay'), user('gus')]);
    const content = randomBytes(200_000);
    const path = join(await fx.dir(), 'notes.pdf');
    await writeFile(path, content);
    const receivers = [eve, fay, gus];
    const offers = receivers.map((c) => nextEvent(c, 'fileOffer', (o) => o.from === 'dan'));
    await dan.sendFile({ room: 'lobby' }, path);
    const got = await Promise.all(offers);
    // lobby is end to end: so is its file (sealed, its name and key in a sealed room message).
    for (const [offer] of got) expect(offer).toMatchObject({ name: 'notes.pdf', size: content.length, e2e: true });
    const saved = await Promise.all(receivers.map(async (c, i) => c.acceptFile(got[i]![0].fileId, await fx.dir())));
    for (const file of saved) expect(Buffer.compare(await readFile(file), content)).toBe(0);
  });
});
