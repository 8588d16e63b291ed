// A man in the middle between a real client and a real hushd. It swaps the
// server's ephemeral or identity key, edits the version lists (downgrade), sends low-order points,
// or runs a complete handshake of its own under another identity. The client must refuse before
// it sends anything sealed, and say why.
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ClientHandshake, CryptoError, ServerHandshake, ServerIdentity } from '@hush/crypto';
import { PROTOCOL_VERSION, SUPPORTED_VERSIONS } from '@hush/protocol';
import { HushError, serverKey, type HushClient } from '@hush/client';
import { startTestServer, type TestServer } from '@hush/server';
import { FrameProxy, handshakeJson, jsonPayload, type FrameContext, type FrameVerdict } from './helpers-net/proxy.js';
import { b64, RawClient, unb64 } from './helpers-net/raw-client.js';
import { HandshakeServer } from './helpers-net/handshake-server.js';
import { SdkFixture } from './helpers-net/sdk.js';

let server: TestServer;
let other: TestServer;
const sdk = new SdkFixture();
const proxies: FrameProxy[] = [];

beforeAll(async () => {
  server = await startTestServer();
  other = await startTestServer(); // a real hushd with another identity: the impostor
});
afterAll(async () => {
  await Promise.all([server.stop(), other.stop()]);
});
afterEach(async () => {
  await sdk.cleanup();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function proxyTo(target: { host: string; port: number }): Promise<FrameProxy> {
  const p = await FrameProxy.start(target);
  proxies.push(p);
  return p;
}

/** Rewrites the first frame going `dir` (server_hello from the server, client_hello to it) with `edit`. */
function editHello(dir: FrameContext['dir'], edit: (hello: Record<string, unknown>) => void): (f: FrameContext) => FrameVerdict {
  return (f) => {
    if (f.dir !== dir || f.index !== 0) return 'forward';
    const hello = handshakeJson(f.payload)!;
    edit(hello);
    return { payloads: [jsonPayload(hello)] };
  };
}
const editServerHello = (edit: (hello: Record<string, unknown>) => void) => editHello('s2c', edit);
const editClientHello = (edit: (hello: Record<string, unknown>) => void) => editHello('c2s', edit);

/** A valid X25519 public key nobody in the test knows the secret of (a fresh ephemeral). */
function someX25519Key(): string {
  return b64(new ClientHandshake({ versions: [1] }).start().ephemeral);
}

async function sdkConnectError(
  p: FrameProxy,
  options: Parameters<SdkFixture['connect']>[2] = {},
  fingerprint: string | null = server.fingerprint,
): Promise<HushError> {
  let client: HushClient | undefined;
  try {
    client = await sdk.connect(p, fingerprint ?? undefined, { reconnect: false, ...options });
  } catch (error) {
    expect(error).toBeInstanceOf(HushError);
    return error as HushError;
  }
  await client.close();
  throw new Error('the client accepted a tampered handshake');
}

function causeCode(error: unknown): string | undefined {
  const cause = (error as { cause?: unknown }).cause;
  return cause instanceof CryptoError ? cause.code : undefined;
}

/** Pins the real server's key for the proxy's host:port, as an earlier clean connection would. */
async function pinnedPaths(p: FrameProxy): Promise<Awaited<ReturnType<SdkFixture['paths']>>> {
  const paths = await sdk.paths();
  await mkdir(paths.configDir, { recursive: true, mode: 0o700 });
  await writeFile(join(paths.configDir, 'known_servers'), `${serverKey(p.host, p.port)} ${server.fingerprint}\n`, { mode: 0o600 });
  return paths;
}

describe('man in the middle: the SDK refuses and says why', () => {
  it('a clean proxy is transparent (the attacks below are the only difference)', async () => {
    const p = await proxyTo(server);
    const client = await sdk.connect(p, server.fingerprint, { paths: await pinnedPaths(p) });
    await client.register('mitm-control', 'pw-mitm-control-long');
    expect(client.user).toBe('mitm-control');
    expect(p.framesSeen(0, 'c2s')).toBeGreaterThanOrEqual(3); // hello, finished, sealed register
  });

  it('swapped server ephemeral key: BAD_SIGNATURE, nothing sent after client_hello', async () => {
    const p = await proxyTo(server);
    p.hook = editServerHello((h) => (h.ephemeral = someX25519Key()));
    const error = await sdkConnectError(p, { paths: await pinnedPaths(p) });
    expect(error.code).toBe('HANDSHAKE_FAILED');
    expect(causeCode(error)).toBe('BAD_SIGNATURE');
    expect(error.message).toMatch(/signature does not verify/);
    expect(p.framesSeen(0, 'c2s')).toBe(1);
  });

  it('swapped identity key (pinned client), signature left as is: BAD_SIGNATURE', async () => {
    const p = await proxyTo(server);
    p.hook = editServerHello((h) => (h.identity = b64(ServerIdentity.generate().publicKey)));
    const error = await sdkConnectError(p, { paths: await pinnedPaths(p) });
    expect(error.code).toBe('HANDSHAKE_FAILED');
    expect(causeCode(error)).toBe('BAD_SIGNATURE');
    expect(p.framesSeen(0, 'c2s')).toBe(1);
  });

  it('swapped signature or finished MAC: refused', async () => {
    for (const field of ['signature', 'finished'] as const) {
      const p = await proxyTo(server);
      p.hook = editServerHello((h) => {
        const bytes = Buffer.from(unb64(h[field] as string));
        bytes[5] = bytes[5]! ^ 0x01;
        h[field] = b64(bytes);
      });
      const error = await sdkConnectError(p, { paths: await pinnedPaths(p) });
      expect(error.code).toBe('HANDSHAKE_FAILED');
      expect(causeCode(error)).toBe(field === 'signature' ? 'BAD_SIGNATURE' : 'HANDSHAKE_FAILED');
      expect(p.framesSeen(0, 'c2s')).toBe(1);
    }
  });

  it('low-order points as the server ephemeral: LOW_ORDER_POINT', async () => {
    const lowOrder = [
      '0000000000000000000000000000000000000000000000000000000000000000',
      '0100000000000000000000000000000000000000000000000000000000000000',
      'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
      '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
      'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
      'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
    ];
    for (const hex of lowOrder) {
      const p = await proxyTo(server);
      p.hook = editServerHello((h) => (h.ephemeral = b64(Buffer.from(hex, 'hex'))));
      const error = await sdkConnectError(p, { paths: await pinnedPaths(p) });
      expect(error.code, hex).toBe('HANDSHAKE_FAILED');
      expect(causeCode(error), hex).toBe('LOW_ORDER_POINT');
      expect(p.framesSeen(0, 'c2s')).toBe(1);
    }
  });

  it("a complete handshake under the attacker's own identity: SERVER_KEY_CHANGED for a pinned client", async () => {
    const p = await proxyTo(server);
    const attacker = ServerIdentity.generate();
    p.hook = (f) => {
      if (f.dir === 'c2s' && f.index === 0) {
        // Terminate the handshake at the proxy: a valid server_hello signed by the attacker.
        const hello = handshakeJson(f.payload)!;
        const hs = new ServerHandshake({ identity: attacker, versions: [...SUPPORTED_VERSIONS] });
        const reply = hs.receive({ versions: hello.versions as number[], ephemeral: unb64(hello.ephemeral as string) });
        setImmediate(() =>
          p.inject(
            f.conn,
            's2c',
            jsonPayload({
              type: 'server_hello',
              version: reply.version,
              versions: reply.versions,
              ephemeral: b64(reply.ephemeral),
              identity: b64(reply.identity),
              signature: b64(reply.signature),
              finished: b64(reply.finished),
            }),
          ),
        );
        return 'drop';
      }
      return 'forward';
    };
    const error = await sdkConnectError(p, { paths: await pinnedPaths(p) });
    expect(error.code).toBe('SERVER_KEY_CHANGED');
    expect(error.message).toContain(server.fingerprint);
    expect(error.message).toContain(attacker.fingerprint());
    expect(p.framesSeen(0, 'c2s')).toBe(1); // no client_finished, no login
  });

  it('a different real server behind the same address: SERVER_KEY_CHANGED (pinned) / UNTRUSTED_SERVER (first contact)', async () => {
    const p = await proxyTo(other);
    const pinned = await sdkConnectError(p, { paths: await pinnedPaths(p) });
    expect(pinned.code).toBe('SERVER_KEY_CHANGED');
    expect(pinned.message).toContain(other.fingerprint);

    const firstContact = await sdkConnectError(p, {}); // expectedFingerprint = the real server's
    expect(firstContact.code).toBe('UNTRUSTED_SERVER');
    expect(firstContact.message).toContain(other.fingerprint);

    const prompts: string[] = [];
    const refused = await sdkConnectError(
      p,
      {
        trust: (prompt) => {
          prompts.push(prompt.fingerprint);
          return false;
        },
      },
      null,
    );
    expect(refused.code).toBe('UNTRUSTED_SERVER');
    expect(prompts).toEqual([other.fingerprint]); // the user is shown the impostor's key, not the real one
    for (let conn = 0; conn < 3; conn++) expect(p.framesSeen(conn, 'c2s')).toBe(1);
  });

  it('client_hello versions rewritten to an unknown version: UNSUPPORTED_VERSION, no session', async () => {
    const p = await proxyTo(server);
    p.hook = editClientHello((h) => (h.versions = [7]));
    const error = await sdkConnectError(p, { paths: await pinnedPaths(p) });
    expect(error.code).toBe('UNSUPPORTED_VERSION');
  });
});

// hushd's highest version is the current V (it speaks older ones too); raw clients also offer a future V + 1.
const V = PROTOCOL_VERSION;
describe(`version downgrade: raw clients offering [${V + 1}, ${V}]`, () => {
  it(`against hushd (at most ${V}), [${V + 1}, ${V}] is legitimate and agrees on ${V}`, async () => {
    const client = await RawClient.connect(server.port, { versions: [V + 1, V] });
    expect(client.session!.version).toBe(V);
    expect(await client.ping()).toBeLessThan(5000);
    await client.close();
  });

  async function rawError(p: FrameProxy, versions: number[]): Promise<CryptoError> {
    const error = await RawClient.connect(p.port, { versions }).then(
      async (c) => {
        await c.close();
        throw new Error('tampered handshake accepted');
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(CryptoError);
    return error as CryptoError;
  }

  it(`MITM edits server_hello versions to claim ${V + 1} while ${V} was chosen: VERSION_MISMATCH`, async () => {
    const p = await proxyTo(server);
    p.hook = editServerHello((h) => (h.versions = [V + 1, V]));
    expect((await rawError(p, [V + 1, V])).code).toBe('VERSION_MISMATCH');
  });

  it(`MITM edits server_hello version to ${V + 1} (and versions to match): BAD_SIGNATURE`, async () => {
    const p = await proxyTo(server);
    p.hook = editServerHello((h) => {
      h.version = V + 1;
      h.versions = [V + 1, V];
    });
    expect((await rawError(p, [V + 1, V])).code).toBe('BAD_SIGNATURE');
  });

  it(`MITM strips ${V + 1} from client_hello: the transcript no longer matches, BAD_SIGNATURE`, async () => {
    const p = await proxyTo(server);
    p.hook = editClientHello((h) => (h.versions = [V]));
    expect((await rawError(p, [V + 1, V])).code).toBe('BAD_SIGNATURE');
  });

  it('against a server that does speak [2, 1]: stripping 2 from client_hello is a detected downgrade', async () => {
    const dual = await new HandshakeServer([2, 1]).start();
    try {
      const clean = await RawClient.connect(dual.port, { versions: [2, 1] });
      expect(clean.session!.version).toBe(2);
      await clean.close();

      const p = await proxyTo({ host: '127.0.0.1', port: dual.port });
      p.hook = editClientHello((h) => (h.versions = [1]));
      expect((await rawError(p, [2, 1])).code).toBe('VERSION_MISMATCH');

      const p2 = await proxyTo({ host: '127.0.0.1', port: dual.port });
      p2.hook = editServerHello((h) => {
        h.version = 1;
        h.versions = [1];
      });
      expect((await rawError(p2, [2, 1])).code).toBe('BAD_SIGNATURE');
      expect(dual.completed).toEqual([2]); // only the clean handshake finished
    } finally {
      await dual.close();
    }
  });
});

describe('the server side of the handshake', () => {
  it('a low-order client ephemeral is refused with HANDSHAKE_FAILED', async () => {
    for (const hex of ['00'.repeat(32), 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800']) {
      const raw = await RawClient.raw(server.port);
      raw.writePlain({ type: 'client_hello', versions: [V], ephemeral: b64(Buffer.from(hex, 'hex')) });
      const bye = await raw.next((m) => m.type === 'goodbye' || m.type === 'server_hello');
      expect(bye.type).toBe('goodbye');
      expect(bye.type === 'goodbye' && bye.code).toBe('HANDSHAKE_FAILED');
      await raw.closed;
    }
  });

  it('a client_finished forged by a MITM (wrong MAC) gets no session', async () => {
    const p = await proxyTo(server);
    p.hook = (f) => {
      if (f.dir !== 'c2s' || f.index !== 1) return 'forward';
      const fin = handshakeJson(f.payload)!;
      const bytes = Buffer.from(unb64(fin.finished as string));
      bytes[0] = bytes[0]! ^ 0x80;
      return { payloads: [jsonPayload({ ...fin, finished: b64(bytes) })] };
    };
    const error = await sdk.connect(p, server.fingerprint, { reconnect: false, paths: await pinnedPaths(p) }).then(
      async (c) => {
        // The SDK considers itself connected once it has sent client_finished; the server must refuse.
        const e = await c.register('mitm-finished', 'pw-mitm-finished-long').then(
          () => undefined,
          (err: unknown) => err,
        );
        return e;
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HushError);
    expect(['CONNECTION_CLOSED', 'HANDSHAKE_FAILED']).toContain((error as HushError).code);
  });
});
