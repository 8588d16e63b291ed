// A download that outlives the hush running it, driven through real `hush` processes in tmux
// against a real hushd: bob's hush is killed (kill -9, by its PID) in the middle of a download that
// comes through a slow link; started again, it lists the file as offered while he was away, the
// half-written .part is gone, and /accept saves the file whole. And where a save was refused first,
// the download's line is drawn at the bottom, below the refusals, not at the offer's old place. A
// download begun again after a lost connection says so on its line; an upload cut by one fails in words.
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CutProxy, type HushTui } from '@hush/test-kit';
import { PASSWORD, TuiBed } from './helpers/tui-bed.js';

const bed = TuiBed.install();

/** Bytes per second the slow link lets through from the server: a 3 MiB file takes some seconds. */
const LINK_RATE = 512 * 1024;

/** Relays what `from` sends to `to` at LINK_RATE. */
function slowly(from: Socket, to: Socket): void {
  from.on('data', (d) => {
    to.write(d);
    from.pause();
    setTimeout(() => from.resume(), Math.ceil((d.length / LINK_RATE) * 1000));
  });
}

/** A TCP relay to the server, throttled to LINK_RATE each way. */
async function slowLink(port: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect({ host: '127.0.0.1', port });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    slowly(client, upstream);
    slowly(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** `user`'s hush on the chat screen, connected through the slow link (registered through the form with `register`). */
async function throughLink(link: { port: number }, user: string, opts: { register?: boolean; home?: string } = {}): Promise<HushTui> {
  const args = [
    '--host',
    `127.0.0.1:${link.port}`,
    '--user',
    user,
    ...(opts.register ? ['--register'] : []),
    '--login',
    '--fingerprint',
    bed.server.fingerprint,
  ];
  const tui = bed.start(args, { password: PASSWORD, ...(opts.home ? { home: opts.home } : {}) });
  await tui.waitFor((screen) => screen.includes('#lobby') && / connected /.test(screen), `${user} on the chat screen`);
  return tui;
}

/** alice offers bob (behind the slow link) ten.bin, 3 MiB, in #lobby; bob leaves the offer for later. */
async function offeredToBob(link: { port: number }): Promise<{ alice: HushTui; bob: HushTui; content: Buffer }> {
  const alice = await bed.loggedIn('alice');
  const bob = await throughLink(link, 'bob', { register: true });
  await alice.waitFor('bob joined #lobby');
  const content = randomBytes(3 * 1024 * 1024);
  writeFileSync(join(alice.home, 'ten.bin'), content);
  await alice.typeLine('/file ~/ten.bin');
  await bob.waitFor((s) => s.includes('alice offers "ten.bin"') && s.includes('[l] later'));
  bob.keys('l');
  await bob.waitFor('file offer from alice: "ten.bin"');
  return { alice, bob, content };
}

/** The PID of the hush (node) process in `tui`'s pane: the child of the pane's shell. */
function hushPid(tui: HushTui): number {
  const shell = tui.tmux('list-panes', '-F', '#{pane_pid}').trim();
  const child = execFileSync('pgrep', ['-P', shell], { encoding: 'utf8' }).trim().split('\n')[0];
  if (!child) throw new Error('no hush process in the pane');
  return Number(child);
}

const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const parts = (dir: string): string[] => readdirSync(dir).filter((n) => n.endsWith('.part'));
/** The row of the screen holding `text`. */
const rowOf = (screen: string, text: string | RegExp): number =>
  screen.split('\n').findIndex((l) => (typeof text === 'string' ? l.includes(text) : text.test(l)));

describe('hush in tmux: a download and a crash', () => {
  let link: { port: number; close(): Promise<void> } | undefined;
  afterEach(async () => {
    await link?.close();
    link = undefined;
  });

  it('bob killed mid-download gets the file whole after a restart, no .part left; the download shows below the refused tries', async () => {
    link = await slowLink(bed.server.port);
    const { alice, bob, content } = await offeredToBob(link);

    // Two refused tries, then a folder that works: the download's line is below both refusals.
    writeFileSync(join(bob.home, 'afile'), 'x');
    await bob.typeLine('/accept ten.bin ~/afile');
    await bob.waitFor('it is a file, not a');
    await bob.typeLine('/accept ten.bin /proc/hush-nope');
    await bob.waitFor(/cannot save into \/proc\/hush-nope/);
    const dl = join(bob.home, 'dl');
    mkdirSync(dl);
    await bob.typeLine('/accept ten.bin ~/dl');
    const midway = await bob.waitFor(
      (screen) => screen.includes('receiving "ten.bin" from alice') && /\D[1-9]\d?%/.test(screen),
      'the download under way',
      30_000,
    );
    process.kill(hushPid(bob), 'SIGKILL');
    expect(rowOf(midway, 'receiving "ten.bin"')).toBeGreaterThan(rowOf(midway, /cannot save into \/proc\/hush-nope/));
    expect(rowOf(midway, /cannot save into \/proc\/hush-nope/)).toBeGreaterThan(rowOf(midway, 'it is a file, not a'));
    expect(midway).not.toContain('file offer from alice: "ten.bin"'); // the offer's line became the download's
    await bob.exitCode();
    expect(parts(dl)).toHaveLength(1); // what the crash left

    const again = await throughLink(link, 'bob', { home: bob.home });
    await again.waitFor('1 file offered while you were away', 'the offer listed again at the start', 30_000);
    await again.waitFor('a download did not finish (the program was closed)', 'the interrupted download said');
    await again.waitFor('alice offered "ten.bin" (3 MiB) in #lobby');
    expect(parts(dl)).toEqual([]);
    await again.typeLine('/accept ten.bin ~/dl');
    await again.waitFor('saved "ten.bin" to', 'the download saved', 60_000);
    expect(sha256(readFileSync(join(dl, 'ten.bin')))).toBe(sha256(content));
    expect(parts(dl)).toEqual([]);
    await alice.waitFor('bob saved "ten.bin"');
  }, 180_000);

  it('alice killed mid-upload is told at the restart to send it again, and not warned about her own offer', async () => {
    link = await slowLink(bed.server.port);
    const alice = await throughLink(link, 'alice', { register: true });
    const bob = await bed.loggedIn('bob');
    await alice.waitFor('bob joined #lobby');
    await alice.typeLine('before the file');
    await bob.waitFor('before the file');
    writeFileSync(join(alice.home, 'ten.bin'), randomBytes(3 * 1024 * 1024));
    await alice.typeLine('/file ~/ten.bin');
    await alice.waitFor((screen) => screen.includes('sending "ten.bin"') && /\D[1-9]\d?%/.test(screen), 'the upload under way', 30_000);
    process.kill(hushPid(alice), 'SIGKILL');
    await alice.exitCode();

    const again = await throughLink(link, 'alice', { home: alice.home });
    await again.waitFor('#lobby: the upload of "ten.bin" did not finish: send it', 'the unfinished upload said', 30_000);
    // Once a missing key would have been said (5 s): nothing about her own sealed offer.
    await new Promise((resolve) => setTimeout(resolve, 7_000));
    expect(again.capture()).not.toContain('could not be opened');
    expect(bob.capture()).not.toContain('ten.bin');
  }, 180_000);

  it('an upload cut by a lost connection says so on its line and names the file (it read "cancelled" and stayed at its last %)', async () => {
    link = await slowLink(bed.server.port);
    const alice = await throughLink(link, 'alice', { register: true });
    writeFileSync(join(alice.home, 'ten.bin'), randomBytes(3 * 1024 * 1024));
    await alice.typeLine('/file ~/ten.bin');
    await alice.waitFor((screen) => screen.includes('sending "ten.bin"') && /\D[1-9]\d?%/.test(screen), 'the upload under way', 30_000);
    await bed.stopServer();
    const cut = await alice.waitFor('file "ten.bin" failed: the connection was lost', 'the cut upload said', 30_000);
    // Said once: its line is the newest in front of her, so no notice repeats it under it.
    expect(cut).not.toContain('sending "ten.bin" failed');
    expect(cut).not.toContain('sending "ten.bin" (3 MiB)');
    expect(cut).not.toMatch(/!!! cancelled|FILE_CANCELLED/);
    await bed.restart();
    await alice.waitFor('reconnected', 'back', 30_000);
    expect(alice.capture()).toContain('file "ten.bin" failed');
  }, 180_000);

  it('a download goes on by itself after the server restarts in the middle of it', async () => {
    link = await slowLink(bed.server.port);
    const { bob, content } = await offeredToBob(link);
    await bob.typeLine('/accept ten.bin ~/dl');
    await bob.waitFor(
      (screen) => screen.includes('receiving "ten.bin" from alice') && /\D[1-9]\d?%/.test(screen),
      'the download under way',
      30_000,
    );
    await bed.stopServer();
    await bob.waitFor('reconnecting', 'the connection lost', 30_000);
    await bed.restart();
    await bob.waitFor('saved "ten.bin" to', 'the download saved after the restart', 60_000);
    expect(sha256(readFileSync(join(bob.home, 'dl', 'ten.bin')))).toBe(sha256(content));
    expect(parts(join(bob.home, 'dl'))).toEqual([]);
    expect(bob.capture()).not.toMatch(/CONNECTION_CLOSED|failed/);
  }, 180_000);

  it('a download begun again after a lost connection says so on its line (its bar went back to 0 without a word)', async () => {
    link = await slowLink(bed.server.port);
    const proxy = await CutProxy.start({ host: '127.0.0.1', port: link.port });
    try {
      const { bob, content } = await offeredToBob(proxy);
      bob.resize(200, 40); // the download's line on one row
      await bob.typeLine('/accept ten.bin ~/dl');
      await bob.waitFor(
        (screen) => screen.includes('receiving "ten.bin" from alice') && /\D[1-9]\d?%/.test(screen),
        'the download under way',
        30_000,
      );
      proxy.cut();
      await bob.waitFor('reconnecting', 'the connection lost', 30_000);
      proxy.heal();
      await bob.waitFor(/receiving "ten\.bin" from alice .*% \(started again: the connection came back\)/, 'the restart said', 60_000);
      await bob.waitFor('saved "ten.bin" to', 'the download saved', 60_000);
      expect(sha256(readFileSync(join(bob.home, 'dl', 'ten.bin')))).toBe(sha256(content));
    } finally {
      await proxy.close();
    }
  }, 180_000);
});
