import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer } from '@hush/server';
import { sharedServer } from '@hush/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { HushClient } from '../src/client.js';
import { HushError } from '../src/errors.js';
import { Fixture } from './helpers.js';

describe('server pinning (known_servers)', () => {
  const fx = new Fixture();
  const server = sharedServer(startTestServer, fx);

  const base = () => ({ host: server.host, port: server.port, timeoutMs: 5000 });

  it('first contact: the trust callback sees the fingerprint; yes pins it; later connects need no prompt', async () => {
    const paths = await fx.paths();
    const prompts: unknown[] = [];
    const client = fx.track(
      await HushClient.connect({
        ...base(),
        paths,
        trust: (p) => {
          prompts.push(p);
          return true;
        },
      }),
    );
    expect(prompts).toEqual([
      {
        host: server.host,
        port: server.port,
        fingerprint: server.fingerprint,
        shortFingerprint: expect.stringMatching(/^(\d{5} ){5}\d{5}$/),
        knownAs: [],
      },
    ]);
    expect(client.fingerprint).toBe(server.fingerprint);
    expect(client.state).toBe('ready');
    const text = await readFile(join(paths.configDir, 'known_servers'), 'utf8');
    expect(text).toBe(`${server.host}:${server.port} ${server.fingerprint}\n`);
    // Pinned now: no trust callback, no expected fingerprint needed.
    const again = fx.track(await HushClient.connect({ ...base(), paths }));
    expect(again.fingerprint).toBe(server.fingerprint);
  });

  it('first contact without trust callback or expected fingerprint fails with UNTRUSTED_SERVER and pins nothing', async () => {
    const paths = await fx.paths();
    await expect(HushClient.connect({ ...base(), paths })).rejects.toMatchObject({ code: 'UNTRUSTED_SERVER' });
    const refused = HushClient.connect({ ...base(), paths, trust: async () => false });
    await expect(refused).rejects.toBeInstanceOf(HushError);
    await expect(refused).rejects.toMatchObject({ code: 'UNTRUSTED_SERVER' });
    await expect(readFile(join(paths.configDir, 'known_servers'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('an expected fingerprint pins on match and refuses on mismatch', async () => {
    const paths = await fx.paths();
    const other = `SHA512:${'A'.repeat(43)}`; // another server's key
    await expect(HushClient.connect({ ...base(), paths, expectedFingerprint: other })).rejects.toMatchObject({
      code: 'UNTRUSTED_SERVER',
      message: `server fingerprint ${server.fingerprint} does not match the expected "${other}"`,
    });
    // An empty or mangled variable is said to be no fingerprint at all.
    for (const expectedFingerprint of ['', 'SHA512:AAAAwrongwrongwrong']) {
      await expect(HushClient.connect({ ...base(), paths, expectedFingerprint })).rejects.toMatchObject({
        code: 'UNTRUSTED_SERVER',
        message: `server fingerprint ${server.fingerprint} does not match the expected ${JSON.stringify(expectedFingerprint)}, which is not a fingerprint (give it as \`hushd fingerprint\` prints it, SHA512:..., or as its 30 digits)`,
      });
    }
    const client = fx.track(await HushClient.connect({ ...base(), paths, expectedFingerprint: server.fingerprint }));
    expect(client.fingerprint).toBe(server.fingerprint);
    expect(await readFile(join(paths.configDir, 'known_servers'), 'utf8')).toContain(server.fingerprint);
  });

  it('a changed key is a hard failure naming both fingerprints and the line to edit', async () => {
    const paths = await fx.paths();
    await mkdir(paths.configDir, { recursive: true });
    const file = join(paths.configDir, 'known_servers');
    const old = 'SHA512:0123456789abcdefghijklmnopqrstuvwxyzABCDE';
    await writeFile(file, `# mine\n${server.host}:${server.port} ${old}\n`);
    const error = await HushClient.connect({ ...base(), paths, trust: () => true, expectedFingerprint: server.fingerprint }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HushError);
    expect((error as HushError).code).toBe('SERVER_KEY_CHANGED');
    expect((error as HushError).message).toContain(old);
    expect((error as HushError).message).toContain(server.fingerprint);
    expect((error as HushError).message).toContain(`line 2 from ${file}`);
    // The pin is left alone.
    expect(await readFile(file, 'utf8')).toBe(`# mine\n${server.host}:${server.port} ${old}\n`);
  });
});

describe('server replaced on the same host:port', () => {
  const fx = new Fixture();
  afterEach(() => fx.cleanup());

  it('a server restarted with a new identity key is refused with SERVER_KEY_CHANGED', async () => {
    const first = await startTestServer({ dataDir: await fx.dir() });
    const port = first.port;
    const paths = await fx.paths();
    const client = await HushClient.connect({ host: first.host, port, paths, expectedFingerprint: first.fingerprint, reconnect: false });
    await client.close();
    await first.stop();
    const second = await startTestServer({ dataDir: await fx.dir(), port });
    try {
      expect(second.fingerprint).not.toBe(first.fingerprint);
      const error = await HushClient.connect({ host: second.host, port, paths, trust: () => true }).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'SERVER_KEY_CHANGED' });
      expect((error as Error).message).toContain(first.fingerprint);
      expect((error as Error).message).toContain(second.fingerprint);
    } finally {
      await second.stop();
    }
  });

  it('a changed key met while reconnecting ends the session once, as closed (not also as an error)', async () => {
    const dataDir = await fx.dir();
    const first = await startTestServer({ dataDir });
    const port = first.port;
    const paths = await fx.paths();
    const client = await HushClient.connect({ host: first.host, port, paths, expectedFingerprint: first.fingerprint });
    await client.register('keyswap', 'a good long password');
    const errors: unknown[] = [];
    client.on('error', (e) => errors.push(e));
    const closed = new Promise<{ code?: string; reason?: string }>((resolve) => client.on('closed', resolve));
    await first.stop();
    const second = await startTestServer({ dataDir: await fx.dir(), port });
    try {
      const ended = await closed;
      expect(ended.code).toBe('SERVER_KEY_CHANGED');
      expect(ended.reason).toContain(second.fingerprint);
      expect(errors).toEqual([]);
    } finally {
      await client.close().catch(() => undefined);
      await second.stop();
    }
  });
});

describe('a trust decision slower than the server handshake deadline', () => {
  const fx = new Fixture();

  it.each([800, 1500, 3000])('answered after %i ms (deadline 1 s): connected, and the login that follows works', async (ms) => {
    const server = await fx.stopAfter(await startTestServer({ limits: { handshakeTimeoutMs: 1000 } }));
    const paths = await fx.paths();
    const client = fx.track(
      await HushClient.connect({
        host: server.host,
        port: server.port,
        paths,
        timeoutMs: 5000,
        trust: () => new Promise((resolve) => setTimeout(() => resolve(true), ms)),
      }),
    );
    expect(client.state).toBe('ready');
    await client.register(`slow${ms}`, 'a good long password');
    expect(client.user).toBe(`slow${ms}`);
  });
});
