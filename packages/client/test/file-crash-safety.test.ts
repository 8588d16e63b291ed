import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '@hush/server';
import { e2eRoom } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClientPaths } from '../src/paths.js';
import { DOWNLOAD_UNFINISHED } from '../src/file-transfers.js';
import { collect, Fixture, nextEvent } from './helpers.js';

// A file transfer survives the death of the process running it, and a restart of the server:
// an accepted download is offered again (or goes on by itself), nothing of it is left behind,
// and a sender is told that her upload did not finish instead of being warned about her own message.

const CHILD = fileURLToPath(new URL('./helpers/crashing-client.mjs', import.meta.url));
/** How long a room message waits for its sender's key before that is said (RoomCrypto). */
const KEY_WAIT_MS = 5_000;

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const parts = async (dir: string): Promise<string[]> => (await readdir(dir)).filter((n) => n.endsWith('.part'));

/** Runs the SDK in a child process that kills itself (SIGKILL) once the transfer has moved a chunk. */
function crashingClient(server: TestServer, paths: ClientPaths, user: string, job: object): Promise<void> {
  const env = {
    ...process.env,
    CRASH_JOB: JSON.stringify({ host: server.host, port: server.port, fingerprint: server.fingerprint, paths, user, ...job }),
  };
  const child = spawn(process.execPath, [CHILD], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`the child did not die mid-transfer (code ${code}): ${stderr}`)),
    );
  });
}

async function until(what: string, check: () => Promise<boolean>, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !(await check()); ) {
    if (Date.now() > end) throw new Error(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('file transfers and crashes', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('a download whose process died is offered again at the next start, its .part removed, and saved whole', async () => {
    const server = await fx.unthrottledServer();
    const alice = await fx.user(server, 'alice');
    const bobPaths = await fx.paths();
    await (await fx.user(server, 'bob', { paths: bobPaths })).close();
    const content = randomBytes(4 * 1024 * 1024);
    const path = join(await fx.dir(), 'ten.bin');
    await writeFile(path, content);
    const { fileId } = await alice.sendFile({ user: 'bob' }, path);
    const downloads = await fx.dir();

    await crashingClient(server, bobPaths, 'bob', { accept: { fileId, dir: downloads } });
    // The crash left its temporary file.
    expect(await parts(downloads)).toHaveLength(1);

    const bob = await fx.connect(server, { paths: bobPaths });
    const told = collect(bob, 'notice');
    await bob.login('bob');
    await until('the offer again', async () => bob.pendingFiles().some((f) => f.fileId === fileId));
    await until('the unfinished download said', async () => told.some((n) => n.code === 'FILE_UNFINISHED'));
    expect(told.filter((n) => n.code === 'FILE_UNFINISHED')).toEqual([
      { level: 'warn', code: 'FILE_UNFINISHED', text: DOWNLOAD_UNFINISHED },
    ]);
    expect(bob.pendingFiles().find((f) => f.fileId === fileId)).toMatchObject({ from: 'alice', name: 'ten.bin', size: content.length });
    await until('the stale .part removed', async () => (await parts(downloads)).length === 0);

    const downloaded = nextEvent(alice, 'fileStatus', (s) => s.fileId === fileId && s.status === 'downloaded');
    const saved = await bob.acceptFile(fileId, downloads);
    expect(saved).toBe(join(downloads, 'ten.bin'));
    expect(sha256(await readFile(saved))).toBe(sha256(content));
    expect(await parts(downloads)).toEqual([]);
    await downloaded;
    // Saved: not offered again at the next start.
    await bob.close();
    const third = await fx.connect(server, { paths: bobPaths });
    await third.login('bob');
    expect(third.pendingFiles().map((f) => f.fileId)).not.toContain(fileId);
  }, 60_000);

  it('a download goes on by itself after the server restarts in the middle of it', async () => {
    const dataDir = await fx.dir();
    let server = fx.stopAfter(await startTestServer({ dataDir, limits: { messagesPerSecond: 10_000, messageBurst: 10_000 } }));
    const { port } = server;
    const alice = await fx.user(server, 'alice');
    const bob = await fx.user(server, 'bob');
    const content = randomBytes(6 * 1024 * 1024);
    const path = join(await fx.dir(), 'big.bin');
    await writeFile(path, content);
    const offered = nextEvent(bob, 'fileOffer');
    const { fileId } = await alice.sendFile({ user: 'bob' }, path);
    await offered;
    const downloads = await fx.dir();

    const progress = collect(bob, 'fileProgress');
    let restarted: Promise<void> | undefined;
    bob.on('fileProgress', (p) => {
      if (p.bytes > 0 && !restarted)
        restarted = (async () => {
          await server.stop();
          server = fx.stopAfter(await startTestServer({ dataDir, port }));
        })();
    });
    const saved = await bob.acceptFile(fileId, downloads);
    await restarted;
    expect(sha256(await readFile(saved))).toBe(sha256(content));
    expect(await parts(downloads)).toEqual([]);
    // It started again from the beginning after the restart, rather than failing.
    const bytes = progress.map((p) => p.bytes);
    expect(bytes.indexOf(0)).toBeGreaterThan(0);
    expect(bytes.at(-1)).toBe(content.length);
  }, 60_000);

  it('a sender whose process died mid-upload is told to send again, and not warned about her own offer', async () => {
    const server = await fx.unthrottledServer();
    const alicePaths = await fx.paths();
    const alice = await fx.user(server, 'alice', { paths: alicePaths });
    const bob = await fx.user(server, 'bob');
    await e2eRoom('den', alice, bob);
    await alice.send('den', 'before');
    await alice.close();
    const path = join(await fx.dir(), 'ten.bin');
    await writeFile(path, randomBytes(4 * 1024 * 1024));
    const offers = collect(bob, 'fileOffer');

    await crashingClient(server, alicePaths, 'alice', { send: { target: { room: 'den' }, path } });

    const again = await fx.connect(server, { paths: alicePaths });
    const notices = collect(again, 'notice');
    await again.login('alice');
    await until('the unfinished upload said', async () => notices.some((n) => n.code === 'FILE_UNFINISHED'));
    expect(notices.find((n) => n.code === 'FILE_UNFINISHED')?.text).toBe('#den: the upload of "ten.bin" did not finish: send it again');
    // Once a key would have had time to come: nothing is said about her own sealed offer.
    await new Promise((resolve) => setTimeout(resolve, KEY_WAIT_MS + 1000));
    expect(notices.filter((n) => n.code === 'E2E_ROOM_MESSAGE')).toEqual([]);
    expect(offers).toEqual([]);
    // Said once: not at the start after.
    await again.close();
    const third = await fx.connect(server, { paths: alicePaths });
    const later = collect(third, 'notice');
    await third.login('alice');
    await sentAndShownSoon(third);
    expect(later.filter((n) => n.code === 'FILE_UNFINISHED')).toEqual([]);
  }, 60_000);
});

/** A round trip to the server, so notices of the login have come. */
async function sentAndShownSoon(client: { send(room: string, text: string): Promise<unknown> }): Promise<void> {
  await client.send('den', 'after');
}
