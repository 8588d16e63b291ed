// Wire capture. Every byte between two SDK clients and a real hushd passes a
// recording proxy. Canaries sent in a room message, a direct message and files (to the end-to-end
// room, to a person, to an open room) must never appear on the wire in any encoding; the canaries
// of the end-to-end room's message and file (content and name) and of the direct message and file
// must never appear in the server's data directory (hush.db, -wal, -shm, anything else) nor in its
// debug log. A file to an open room is server-readable: the positive control.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, startDaemon, type Daemon, type HushdConfig } from '@hush/server';
import type { HushClient } from '@hush/client';
import { FrameProxy } from './helpers-net/proxy.js';
import { findCanary, makeCanary, scanDirectory } from './helpers-net/canary.js';
import { nextEvent, SdkFixture, until } from './helpers-net/sdk.js';

const sdk = new SdkFixture();
let daemon: Daemon;
let dataDir: string;
let proxy: FrameProxy;
let log = '';
const logStream = new PassThrough();
logStream.on('data', (d: Buffer) => (log += d.toString('utf8')));

const canary = {
  room: makeCanary('ROOM'),
  dm: makeCanary('DIRECT'),
  roomFile: makeCanary('ROOMFILE'),
  roomFileName: makeCanary('ROOMNAME'),
  openFile: makeCanary('OPENFILE'),
  dmFile: makeCanary('DMFILE'),
  dmFileName: makeCanary('DMNAME'),
};

let alice: HushClient;
let bob: HushClient;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'hushd-capture-'));
  const config: HushdConfig = {
    ...DEFAULT_CONFIG,
    host: '127.0.0.1',
    port: 0,
    dataDir,
    logLevel: 'debug',
    scryptN: 2 ** 12,
    openRooms: ['lobby'], // the positive control's file goes there
    limits: { ...DEFAULT_CONFIG.limits, maxConnectionsPerAddress: 1000 },
  };
  daemon = await startDaemon(config, { logStream });
  proxy = await FrameProxy.start({ host: daemon.host, port: daemon.port });
  alice = await sdk.user(proxy, daemon.fingerprint, 'alice-cap');
  bob = await sdk.user(proxy, daemon.fingerprint, 'bob-cap');
  await alice.createRoom('capture', undefined, 'e2e');
  await bob.joinRoom('capture');

  // Room message and direct message, each received by the other side.
  const gotRoom = nextEvent(bob, 'message', (m) => m.text.includes(canary.room));
  await alice.send('capture', `hello ${canary.room} world`);
  await gotRoom;
  const gotDm = nextEvent(bob, 'message', (m) => m.kind === 'dm' && m.text.includes(canary.dm));
  await alice.sendDirect('bob-cap', `secret ${canary.dm} secret`);
  await gotDm;
  // A direct message the recipient reads later (stored for offline delivery).
  await bob.close();
  await alice.sendDirect('bob-cap', `offline ${canary.dm} again`);

  // Files: one to the e2e room, one directly, one to the open lobby; contents and names carry canaries.
  const files = await sdk.dir();
  const roomFile = join(files, `${canary.roomFileName}.txt`);
  const openFile = join(files, 'open.txt');
  writeFileSync(openFile, `${canary.openFile}\n`.repeat(2000));
  writeFileSync(roomFile, `${canary.roomFile}\n`.repeat(2000));
  const dmFile = join(files, `${canary.dmFileName}.txt`);
  writeFileSync(dmFile, `${canary.dmFile}\n`.repeat(2000));
  bob = await sdk.connect(proxy, daemon.fingerprint, { paths: bob.paths });
  const bobMessages: string[] = [];
  bob.on('message', (m) => bobMessages.push(m.text));
  await bob.login('bob-cap');
  await until(() => bobMessages.some((t) => t.startsWith('offline ')), 8000, 'the offline DM');

  const downloads = await sdk.dir();
  const offers = new Map<string, string>();
  bob.on('fileOffer', (o) => offers.set('room' in o.target ? o.target.room : 'dm', o.fileId));
  await alice.sendFile({ room: 'capture' }, roomFile);
  await alice.sendFile({ user: 'bob-cap' }, dmFile);
  await alice.sendFile({ room: 'lobby' }, openFile);
  await until(() => offers.size === 3, 10_000, 'the three file offers');
  const roomSaved = await bob.acceptFile(offers.get('capture')!, downloads);
  const dmSaved = await bob.acceptFile(offers.get('dm')!, downloads);
  const openSaved = await bob.acceptFile(offers.get('lobby')!, downloads);
  expect(readFileSync(roomSaved, 'utf8')).toBe(`${canary.roomFile}\n`.repeat(2000));
  expect(roomSaved).toContain(canary.roomFileName);
  expect(readFileSync(openSaved, 'utf8')).toBe(`${canary.openFile}\n`.repeat(2000));
  expect(readFileSync(dmSaved, 'utf8')).toBe(`${canary.dmFile}\n`.repeat(2000));
  expect(dmSaved).toContain(canary.dmFileName);
}, 60_000);

afterAll(async () => {
  await sdk.cleanup();
  await proxy?.close();
  await daemon?.shutdown('test');
  rmSync(dataDir, { recursive: true, force: true });
});

describe('wire capture', () => {
  it('the scanner recognises every encoding, at every base64 alignment (self-check)', () => {
    const c = makeCanary('SELF');
    for (const prefix of ['', 'x', 'xy', 'xyz']) {
      const text = `${prefix}${c}tail`;
      for (const encoded of [
        Buffer.from(text),
        Buffer.from(text, 'utf16le'),
        Buffer.from(Buffer.from(text).toString('hex')),
        Buffer.from(Buffer.from(text).toString('hex').toUpperCase()),
        Buffer.from(Buffer.from(text).toString('base64')),
        Buffer.from(Buffer.from(text).toString('base64url')),
      ]) {
        expect(
          findCanary(Buffer.concat([Buffer.from('junk'), encoded, Buffer.from('junk')]), c).length,
          encoded.toString('latin1'),
        ).toBeGreaterThan(0);
      }
    }
    expect(findCanary(Buffer.from('nothing here'), c)).toEqual([]);
  });

  it('captured the whole conversation (the search below runs over real traffic)', () => {
    const wire = proxy.wire();
    expect(proxy.connections.length).toBeGreaterThanOrEqual(3);
    // Three 2000-line files went through: the capture must be at least that large.
    expect(wire.length).toBeGreaterThan(3 * 2000 * canary.dmFile.length);
  });

  for (const [what, value] of Object.entries(canary)) {
    it(`the ${what} canary is on the wire in no encoding (utf8, utf16le, hex, base64, base64url)`, () => {
      expect(findCanary(proxy.wire('c2s'), value)).toEqual([]);
      expect(findCanary(proxy.wire('s2c'), value)).toEqual([]);
    });
  }
});

describe('server at rest and its logs', () => {
  it("the scanner finds the open room's file canary in the database (positive control: an open room's files are server-readable)", () => {
    const hits = scanDirectory(dataDir, canary.openFile);
    expect(hits.length).toBeGreaterThan(0);
  });

  const sealed = ['room', 'roomFile', 'roomFileName', 'dm', 'dmFile', 'dmFileName'] as const;
  for (const what of sealed) {
    it(`the ${what} canary is in no file of the data directory (hush.db, -wal, -shm, ...)`, () => {
      expect(scanDirectory(dataDir, canary[what])).toEqual([]);
    });
    it(`the ${what} canary is not in the debug log`, () => {
      expect(log.length).toBeGreaterThan(1000); // debug logging really ran
      expect(findCanary(Buffer.from(log, 'utf8'), canary[what])).toEqual([]);
    });
  }

  it('no canary at all reaches the debug log', () => {
    for (const value of Object.values(canary)) expect(findCanary(Buffer.from(log, 'utf8'), value)).toEqual([]);
  });

  it('still nothing at rest after a clean shutdown (WAL checkpointed into hush.db)', async () => {
    await daemon.shutdown('test');
    for (const what of sealed) expect(scanDirectory(dataDir, canary[what])).toEqual([]);
    expect(scanDirectory(dataDir, canary.openFile).length).toBeGreaterThan(0);
  });
});
