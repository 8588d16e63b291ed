import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '@hush/server';
import { afterEach, describe, expect, it } from 'vitest';
import type { HushClient } from '../src/client.js';
import { openServerHome, serverHomeAt, serverHomeId } from '../src/server-home.js';
import type { ClientPaths } from '../src/paths.js';
import type { TrustPrompt } from '../src/types.js';
import { Fixture, homeOf, sentAndShown } from './helpers.js';

// A device, and everything it holds, belongs to the server's identity key, not to the address it
// was reached at: a server moved to another port (or a cluster, or reached by another name) keeps
// every client's device, sessions and local history.

const PARTS = ['devices', 'state', 'history'] as const;

describe('the device belongs to the server identity, not its address', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  /** A server with history: bob's DM to alice and alice's line in the end-to-end #lobby, both shown. */
  async function serverWithHistory(): Promise<{ server: TestServer; dataDir: string; alice: HushClient; bob: HushClient }> {
    const dataDir = await fx.dir();
    const server = await startTestServer({ dataDir });
    const alice = await fx.user(server, 'alice');
    const bob = await fx.user(server, 'bob');
    await sentAndShown(bob, alice, 'dm before the move');
    await sentAndShown(alice, bob, 'room before the move', 'lobby');
    await alice.close();
    await bob.close();
    await server.stop();
    return { server, dataDir, alice, bob };
  }

  /** The same server identity (same data folder) on another port. */
  const moved = async (dataDir: string): Promise<TestServer> => fx.stopAfter(await startTestServer({ dataDir }));

  /** alice logs in at `server` with her device key alone and still has what she had. */
  async function sameDevice(server: TestServer, paths: ClientPaths, options: { trust?: (p: TrustPrompt) => boolean } = {}) {
    const alice = await fx.connect(server, { paths, ...options, ...(options.trust ? { expectedFingerprint: undefined } : {}) });
    expect(alice.hasDeviceFor('alice')).toBe(true);
    await alice.login('alice'); // no password: the device key is the one the server knows
    expect(server.store.listDevices('alice')).toHaveLength(1);
    expect((await alice.search('before the move')).map((r) => r.message.text).sort()).toEqual([
      'dm before the move',
      'room before the move',
    ]);
    return alice;
  }

  it('after the server moves to another port: same device, sessions and local history, no new device', async () => {
    const first = await serverWithHistory();
    const server = await moved(first.dataDir);
    expect(server.port).not.toBe(first.server.port);
    expect(server.fingerprint).toBe(first.server.fingerprint);

    const prompts: TrustPrompt[] = [];
    const alice = await sameDevice(server, first.alice.paths, {
      trust: (p) => {
        prompts.push(p);
        return true;
      },
    });
    // The trust prompt for the new address says which address this key is already known under.
    expect(prompts.map((p) => p.knownAs)).toEqual([[`127.0.0.1:${first.server.port}`]]);

    // bob's device and sessions came along too: DMs and room lines flow both ways at once.
    const bob = await fx.connect(server, { paths: first.bob.paths });
    await bob.login('bob');
    expect(server.store.listDevices('bob')).toHaveLength(1);
    await sentAndShown(bob, alice, 'dm after the move');
    await sentAndShown(alice, bob, 'reply after the move');
    await sentAndShown(alice, bob, 'room after the move', 'lobby');
  });

  it('moves the folders of an older client (kept per address) to the server identity, whole', async () => {
    const first = await serverWithHistory();
    const paths = first.alice.paths;
    // What clients before this kept: devices/<host>_<port>/, state/<host>_<port>/, history/<host>_<port>/.
    const legacyName = `127.0.0.1_${first.server.port}`;
    const home = homeOf(paths.dataDir, first.server);
    const before = await listing(home.state);
    for (const part of PARTS) {
      await mkdir(join(paths.dataDir, part), { recursive: true });
      await rename(home[part], join(paths.dataDir, part, legacyName));
    }
    await rm(join(paths.dataDir, 'servers'), { recursive: true });

    // The server moved as well: the old folders are found through the old address's pin.
    const server = await moved(first.dataDir);
    const alice = await sameDevice(server, paths);
    for (const part of PARTS) expect(existsSync(join(paths.dataDir, part, legacyName))).toBe(false);
    expect(await listing(home.state)).toEqual(expect.arrayContaining(before));
    const bob = await fx.connect(server, { paths: first.bob.paths });
    await bob.login('bob');
    await sentAndShown(bob, alice, 'dm after the migration');
  });

  it('a server with another key at the old address gets none of the old state', async () => {
    const first = await serverWithHistory();
    const paths = first.alice.paths;
    const legacyName = `127.0.0.1_${first.server.port}`;
    const home = homeOf(paths.dataDir, first.server);
    for (const part of PARTS) {
      await mkdir(join(paths.dataDir, part), { recursive: true });
      await rename(home[part], join(paths.dataDir, part, legacyName));
    }
    await rm(join(paths.dataDir, 'servers'), { recursive: true });

    const impostor = fx.stopAfter(await startTestServer({ port: first.server.port }));
    expect(impostor.fingerprint).not.toBe(first.server.fingerprint);
    await expect(fx.connect(impostor, { paths, expectedFingerprint: undefined, trust: () => true })).rejects.toMatchObject({
      code: 'SERVER_KEY_CHANGED',
    });
    // The user removes the pin (a reinstalled server, they believe) and trusts the new key: still nothing moves.
    await writeFile(join(paths.configDir, 'known_servers'), '');
    const client = await fx.connect(impostor, { paths, expectedFingerprint: undefined, trust: () => true });
    expect(client.hasDeviceFor('alice')).toBe(false);
    for (const part of PARTS) expect(existsSync(join(paths.dataDir, part, legacyName))).toBe(true);
    expect(existsSync(homeOf(paths.dataDir, impostor).devices)).toBe(false);
  });

  it('finishes a move a crash interrupted, without mixing in anything else', async () => {
    const dataDir = await fx.dir();
    const fingerprint = `SHA512:${Buffer.alloc(32, 7).toString('base64').replace(/=+$/, '')}`;
    const id = serverHomeId(fingerprint);
    // devices/ was moved into the staging folder, state/ and history/ were not yet.
    const staging = join(dataDir, 'servers', `${id}.from-h_1`);
    await mkdir(join(staging, 'devices'), { recursive: true });
    await writeFile(join(staging, 'devices', 'amy.key'), 'key');
    await mkdir(join(dataDir, 'state', 'h_1'), { recursive: true });
    await writeFile(join(dataDir, 'state', 'h_1', 'amy.json'), 'state');
    await mkdir(join(dataDir, 'history', 'h_2'), { recursive: true }); // another address's: stays

    const home = await openServerHome(dataDir, fingerprint, ['h:2', 'h:1']);
    expect(home).toEqual(serverHomeAt(join(dataDir, 'servers', id)));
    expect(await readFile(join(home.devices, 'amy.key'), 'utf8')).toBe('key');
    expect(await readFile(join(home.state, 'amy.json'), 'utf8')).toBe('state');
    expect(existsSync(home.history)).toBe(false);
    expect(existsSync(join(dataDir, 'history', 'h_2'))).toBe(true);
    expect(await readdir(join(dataDir, 'servers'))).toEqual([id]);
  });
});

async function listing(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => !name.endsWith('.lock')).sort();
}
