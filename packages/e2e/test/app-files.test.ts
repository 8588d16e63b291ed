// Files. A raw client sends room files and end-to-end direct files with hostile names
// (the file-sharing issue's traversal / overwrite / symlink table), corrupted chunks and cut
// transfers to a real SDK receiver over a real hushd. What must hold, every time: the file lands
// inside the chosen folder under one plain, harmless name, never overwrites, never follows a
// planted symlink, and a corrupt or cut transfer leaves nothing under a final name.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, realpath, stat, symlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isHushError, type FileOffer, type HushClient } from '@hush/client';
import { fileNameProblem } from '@hush/protocol';
import { startTestServer, type TestServer } from '@hush/server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sendDirectFile, sendRoomFile } from './helpers-app/file-sender.js';
import { AppFixture, nextEvent } from './helpers-app/fixture.js';
import type { RawClient } from './helpers-app/raw-client.js';

/** Names from the table, and their cousins. */
const HOSTILE_NAMES: string[] = [
  '../../.bashrc',
  '../../../../../../../../etc/passwd',
  '/etc/passwd',
  '..\\..\\x',
  '..\\..\\..\\Windows\\System32\\drivers\\etc\\hosts',
  'C:\\Windows\\evil.dll',
  '\\\\server\\share\\evil',
  'subdir/../../escape.txt',
  '~/.ssh/authorized_keys',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '.',
  '..',
  '...',
  ' ',
  '. .',
  './',
  '../',
  '/',
  '\\',
  '.bashrc',
  'name.',
  ' leading and trailing ',
  'a\u0000b.txt',
  '\u0000',
  'evil\r\nname.txt',
  'tab\there.txt',
  'x\u001b]0;pwned\u0007.txt',
  'x\u001b[2J\u001b[H.txt',
  '\u009b31mc1.txt',
  'invoice\u202efdp.exe',
  'zero\u200bwidth\u200d.txt',
  '\u2066isolate\u2069.txt',
  '\ufeffbom.txt',
  'CON',
  'NUL',
  'COM1',
  'LPT9.log',
  'aux.txt',
  'con.',
  'PRN .txt',
  'NUL  .tar.gz',
  'COM\u00b9',
  'lpt\u00b2.txt',
  'file:stream.txt',
  'what?*<>|".txt',
  'a'.repeat(255),
  '\u20ac'.repeat(255),
  '\ud83d\ude00'.repeat(120),
  'e\u0301\u0301\u0301\u0301\u0301'.repeat(40),
];

// Windows device names, also with an extension, spaces before it, or superscript digits.
const RESERVED = /^(con|prn|aux|nul|com[0-9\u00b9\u00b2\u00b3]|lpt[0-9\u00b9\u00b2\u00b3]|conin\$|conout\$)(\s*\..*)?$/i;

let server: TestServer;
const fx = new AppFixture();
let bob: HushClient;
let mallory: RawClient;
let root: string;
let dl: string;
let outside: string;
let passwd: { hash: string; mtime: number } | undefined;
const offers = new Map<string, FileOffer>();
let dmSeq = 0;

async function fingerprint(path: string): Promise<{ hash: string; mtime: number } | undefined> {
  try {
    const s = await stat(path);
    return {
      hash: createHash('sha256')
        .update(await readFile(path))
        .digest('hex'),
      mtime: s.mtimeMs,
    };
  } catch {
    return undefined;
  }
}

/** Every path under `dir` (lstat: symlinks not followed). */
async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    out.push(p);
    if (entry.isDirectory()) out.push(...(await tree(p)));
  }
  return out.sort();
}

function offerOf(fileId: string): Promise<FileOffer> {
  const known = offers.get(fileId);
  if (known) return Promise.resolve(known);
  return nextEvent(bob, 'fileOffer', (o) => o.fileId === fileId).then(([o]) => o);
}

/** What is wrong with a saved file: it must be inside `dl` itself, a plain regular file with a harmless name and the right bytes. */
async function problemsOf(saved: string, data: Uint8Array): Promise<string[]> {
  const name = basename(saved);
  const p: string[] = [];
  if (dirname(saved) !== dl || (await realpath(dirname(saved))) !== (await realpath(dl)))
    p.push(`outside the folder: ${JSON.stringify(saved)}`);
  const s = await lstat(saved);
  if (!s.isFile() || s.isSymbolicLink()) p.push('not a regular file');
  if (Buffer.compare(await readFile(saved), Buffer.from(data)) !== 0) p.push('content differs');
  if (/[/\\:*?"<>|\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/.test(name))
    p.push('path, control, bidi or reserved character');
  if (['', '.', '..'].includes(name) || name.startsWith('.')) p.push('dot name or hidden file');
  if (/[\s.]$/.test(name)) p.push('trailing dot or space (Windows drops them)');
  if (RESERVED.test(name)) p.push('Windows device name');
  if (Buffer.byteLength(name, 'utf8') > 255) p.push('name longer than 255 bytes');
  return p.map((x) => `${JSON.stringify(name)}: ${x}`);
}

/** bob's download of `fileId` fails with FILE_CORRUPT and leaves nothing in the folder. */
async function expectRefusedAsCorrupt(fileId: string): Promise<void> {
  await offerOf(fileId);
  const error = await bob.acceptFile(fileId, dl).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isHushError(error, 'FILE_CORRUPT')).toBe(true);
  await noLeftovers();
  expect(await readdir(dl)).toEqual([]);
}

async function expectSafelySaved(saved: string, data: Uint8Array): Promise<string> {
  expect(await problemsOf(saved, data)).toEqual([]);
  return basename(saved);
}

/**
 * Accepts `fileId` into the downloads folder and, once its first bytes have arrived, cuts the
 * transfer with `cut`; resolves with how the accept ended: 'saved' or the error code.
 */
async function cutMidway(receiver: HushClient, fileId: string, cut: () => Promise<unknown>): Promise<string> {
  const outcome = receiver.acceptFile(fileId, dl).then(
    () => 'saved',
    (e: unknown) => (isHushError(e) ? e.code : 'other'),
  );
  await nextEvent(receiver, 'fileProgress', (p) => p.fileId === fileId && p.direction === 'down' && p.bytes > 0);
  await cut();
  return outcome;
}

async function noLeftovers(): Promise<void> {
  // a failed download removes its temporary file asynchronously: wait for it (bounded)
  for (let i = 0; i < 100; i++) {
    const parts = (await readdir(dl)).filter((n) => n.endsWith('.part'));
    if (parts.length === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  expect((await readdir(dl)).filter((n) => n.endsWith('.part'))).toEqual([]);
}

beforeAll(async () => {
  // mallory's raw client offers room files with their names in clear: the lobby is open here.
  server = await startTestServer({ openRooms: ['lobby'], limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } });
  passwd = await fingerprint('/etc/passwd');
});

afterAll(async () => {
  await server.stop();
  expect(await fingerprint('/etc/passwd')).toEqual(passwd);
});

beforeEach(async () => {
  root = await fx.dir('hush-files-root-');
  dl = join(root, 'home', 'user', 'Downloads');
  outside = join(root, 'outside');
  await mkdir(dl, { recursive: true });
  await mkdir(outside, { recursive: true });
  await writeFile(join(root, 'home', 'user', '.bashrc'), 'ORIGINAL BASHRC');
  offers.clear();
  dmSeq = 0;
  const suffix = Math.random().toString(36).slice(2, 8);
  bob = await fx.user(server, `bob-${suffix}`);
  bob.on('fileOffer', (o) => offers.set(o.fileId, o));
  mallory = await fx.rawUser(server, `mal-${suffix}`);
});

afterEach(() => fx.cleanup());

describe('files: hostile names', () => {
  // The protocol's one file-name rule (fileNameProblem) splits the table: names it refuses never
  // reach a disk (the server refuses a room offer, the receiver's SDK declines a direct one and says
  // why); every name it lets through is saved inside the chosen folder under a harmless name.
  const refused = HOSTILE_NAMES.filter((n) => fileNameProblem(n) !== undefined);
  const accepted = HOSTILE_NAMES.filter((n) => fileNameProblem(n) === undefined);

  it('the table holds names on both sides of the file-name rule', () => {
    expect(refused).toContain('../../.bashrc');
    expect(refused).toContain('invoice\u202efdp.exe');
    expect(accepted).toContain('CON');
    expect(accepted.length).toBeGreaterThan(10);
  });

  for (const kind of ['room', 'direct'] as const) {
    it(`${kind} files: ${accepted.length} hostile names the rule lets through are each saved inside the chosen folder`, async () => {
      const before = (await tree(root)).filter((p) => !p.startsWith(`${dl}/`));
      const names = new Set<string>();
      const problems: string[] = [];
      for (const [i, hostile] of accepted.entries()) {
        const data = Buffer.from(`payload ${i} for ${JSON.stringify(hostile)}`);
        const fileId =
          kind === 'room'
            ? await sendRoomFile(mallory, 'lobby', hostile, data)
            : await sendDirectFile(mallory, bob.user!, hostile, data, ++dmSeq);
        const offer = await offerOf(fileId);
        expect(offer.name).toBe(hostile); // the network name is kept for display only
        const saved = await bob.acceptFile(fileId, dl);
        problems.push(...(await problemsOf(saved, data)).map((x) => `${JSON.stringify(hostile)} -> ${x}`));
        names.add(basename(saved));
      }
      expect(problems).toEqual([]);
      expect(names.size).toBe(accepted.length); // every file under its own name: nothing overwritten
      expect((await tree(root)).filter((p) => !p.startsWith(`${dl}/`))).toEqual(before);
      expect(await readFile(join(root, 'home', 'user', '.bashrc'), 'utf8')).toBe('ORIGINAL BASHRC');
      await noLeftovers();
    });
  }

  it('a room offer with a name the rule refuses is refused by the server, in words, before any byte is sent', async () => {
    // One over the wire: a refusal counts against the sender's error budget.
    const sha512 = createHash('sha512').update('x').digest('base64url');
    const reply = await mallory.request({ type: 'file_offer', target: { room: 'lobby' }, size: 1, name: '../../.bashrc', sha512 });
    expect(reply.type === 'error' && reply.code).toBe('BAD_REQUEST');
    expect(reply.type === 'error' && reply.message).toMatch(/rename the file/);
  });

  it(`direct files: ${refused.length} names the rule refuses are declined by the receiver with a notice, never offered or saved`, async () => {
    const notices: string[] = [];
    bob.on('notice', (n) => {
      if (n.code === 'FILE_NAME_INVALID') notices.push(n.text);
    });
    for (const [i, hostile] of refused.entries()) {
      const fileId = await sendDirectFile(mallory, bob.user!, hostile, Buffer.from(`refused ${i}`), ++dmSeq);
      for (let t = 0; t < 250 && notices.length <= i; t++) await new Promise((r) => setTimeout(r, 20));
      expect(notices.length, `a notice for ${JSON.stringify(hostile)}`).toBe(i + 1);
      expect(offers.has(fileId)).toBe(false);
    }
    expect(await readdir(dl)).toEqual([]);
  });

  it('a room file without a name is refused by the server before any byte is sent', async () => {
    const sha512 = createHash('sha512').update('nameless').digest('base64url');
    const reply = await mallory.request({ type: 'file_offer', target: { room: 'lobby' }, size: 8, sha512 });
    expect(reply.type === 'error' && reply.code).toBe('BAD_REQUEST');
  });

  it('an empty name is refused by the server before any byte is sent', async () => {
    const reply = await mallory.request({ type: 'file_offer', target: { room: 'lobby' }, size: 3, name: '' });
    expect(reply.type === 'error' && reply.code).toBe('SCHEMA_VIOLATION');
  });
});

describe('files: overwrite and symlinks', () => {
  it('a name equal to an existing file is auto-renamed; the existing file is untouched', async () => {
    await writeFile(join(dl, 'report.txt'), 'ORIGINAL REPORT');
    const saved: string[] = [];
    for (let i = 0; i < 3; i++) {
      const data = Buffer.from(`forged report ${i}`);
      for (const kind of ['room', 'direct']) {
        const fileId =
          kind === 'room'
            ? await sendRoomFile(mallory, 'lobby', 'report.txt', data)
            : await sendDirectFile(mallory, bob.user!, 'report.txt', data, ++dmSeq);
        await offerOf(fileId);
        const path = await bob.acceptFile(fileId, dl);
        await expectSafelySaved(path, data);
        saved.push(basename(path));
      }
    }
    expect(await readFile(join(dl, 'report.txt'), 'utf8')).toBe('ORIGINAL REPORT');
    expect(saved).toEqual(['report (1).txt', 'report (2).txt', 'report (3).txt', 'report (4).txt', 'report (5).txt', 'report (6).txt']);
  });

  it('symlinks planted under the expected names are never followed: targets outside stay untouched', async () => {
    const victim = join(outside, 'victim.txt');
    await writeFile(victim, 'VICTIM');
    const planted: [string, string][] = [
      ['target.txt', victim], // existing target
      ['dangling.txt', join(outside, 'created-through-link.txt')], // target does not exist yet
      ['bashrc', join(root, 'home', 'user', '.bashrc')],
      ['dirlink', outside], // a directory
      ['file', join(outside, 'default-name')], // the default name for nameless files
    ];
    for (const [name, target] of planted) await symlink(target, join(dl, name));
    const results: string[] = [];
    for (const [name] of planted) {
      for (const kind of ['room', 'direct']) {
        const data = Buffer.from(`through ${name} by ${kind}`);
        const fileId =
          kind === 'room'
            ? await sendRoomFile(mallory, 'lobby', name, data)
            : await sendDirectFile(mallory, bob.user!, name, data, ++dmSeq);
        await offerOf(fileId);
        const path = await bob.acceptFile(fileId, dl);
        await expectSafelySaved(path, data);
        results.push(basename(path));
      }
    }
    expect(results).not.toContain('target.txt');
    expect(results.filter((r) => planted.some(([n]) => n === r))).toEqual([]);
    expect(await readFile(victim, 'utf8')).toBe('VICTIM');
    expect(await readFile(join(root, 'home', 'user', '.bashrc'), 'utf8')).toBe('ORIGINAL BASHRC');
    expect((await readdir(outside)).sort()).toEqual(['victim.txt']);
    for (const [name, target] of planted) {
      const s = await lstat(join(dl, name));
      expect(s.isSymbolicLink()).toBe(true); // the planted links themselves are left alone
      expect(target).toBeTruthy();
    }
  });
});

describe('files: corrupt and cut transfers', () => {
  const big = (n: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
    return b;
  };

  for (const kind of ['room', 'direct'] as const) {
    it(`${kind}: a corrupted chunk is detected (FILE_CORRUPT) and nothing is left under the final name`, async () => {
      for (const index of [0, 2]) {
        const data = big(3 * 64 * 1024 + 100);
        const name = `corrupt-${index}.bin`;
        const fileId =
          kind === 'room'
            ? await sendRoomFile(mallory, 'lobby', name, data, { corruptChunk: index })
            : await sendDirectFile(mallory, bob.user!, name, data, ++dmSeq, { corruptChunk: index });
        await expectRefusedAsCorrupt(fileId);
      }
    });
  }

  it('direct: a hash claim that does not match the content is detected', async () => {
    const data = big(1000);
    const fileId = await sendDirectFile(mallory, bob.user!, 'liar.bin', data, ++dmSeq, { sha512: new Uint8Array(64).fill(7) });
    await expectRefusedAsCorrupt(fileId);
  });

  it('room: a file offered without any hash is not saved unchecked', async () => {
    const data = big(3 * 64 * 1024);
    const fileId = await sendRoomFile(mallory, 'lobby', 'unchecked.bin', data, { sha512: null, corruptChunk: 1 }).catch((e: unknown) => e);
    if (typeof fileId !== 'string') return; // the server refused the offer: nothing to save (the fix on the server side)
    await offerOf(fileId);
    const outcome = await bob.acceptFile(fileId, dl).then(
      (p) => `saved ${basename(p)}`,
      (e: unknown) => (isHushError(e) ? e.code : String(e)),
    );
    expect(outcome).toBe('FILE_CORRUPT');
    expect(await readdir(dl)).toEqual([]);
  });

  it('a transfer cut mid-way (sender cancels, receiver disconnects, server stops) leaves no file under the final name', async () => {
    const data = big(3 * 1024 * 1024);
    // 1. the sender cancels while bob downloads
    const f1 = await sendRoomFile(mallory, 'lobby', 'cut-by-sender.bin', data);
    await offerOf(f1);
    // The cancel may race the last chunks on a fast loopback; either way no half file may remain.
    const r1 = await cutMidway(bob, f1, () => mallory.request({ type: 'file_cancel', fileId: f1 }));
    if (r1 === 'saved') await expectSafelySaved(join(dl, 'cut-by-sender.bin'), data);
    else expect(r1).toBe('FILE_CANCELLED');
    await noLeftovers();

    // 2. the receiver's connection goes away mid-way
    const f2 = await sendRoomFile(mallory, 'lobby', 'cut-by-receiver.bin', data);
    await offerOf(f2);
    const r2 = await cutMidway(bob, f2, () => bob.close());
    await noLeftovers();
    if (r2 === 'saved') await expectSafelySaved(join(dl, 'cut-by-receiver.bin'), data);
    else expect((await readdir(dl)).includes('cut-by-receiver.bin')).toBe(false);
  });

  it('a transfer cut by the server stopping mid-way leaves no file under the final name', async () => {
    const own = await startTestServer({ openRooms: ['lobby'], limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } });
    try {
      const carol = await fx.user(own, 'carol');
      const dave = await fx.rawUser(own, 'dave');
      const data = big(4 * 1024 * 1024);
      const fileId = await sendRoomFile(dave, 'lobby', 'cut-by-server.bin', data);
      await nextEvent(carol, 'fileOffer', (o) => o.fileId === fileId).catch(() => undefined);
      const r = await cutMidway(carol, fileId, () => own.stop());
      await noLeftovers();
      if (r === 'saved') await expectSafelySaved(join(dl, 'cut-by-server.bin'), data);
      else expect(await readdir(dl)).toEqual([]);
    } finally {
      await own.stop();
    }
  });
});
