// A minimal fake server runs a real ServerHandshake and tampers with its server_hello: the SDK must
// refuse and say why in plain words (the crypto code stays in `cause`).
import { createServer, type Server } from 'node:net';
import { type CryptoError, ServerHandshake, ServerIdentity } from '@hush/crypto';
import { MessageChannel, SUPPORTED_VERSIONS, type ServerMessageOf } from '@hush/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { HushError } from '../src/errors.js';
import { handshakeFailure } from '../src/handshake-failure.js';
import { Fixture } from './helpers.js';

type Hello = ServerMessageOf<'server_hello'>;
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** Answers every client_hello with a genuine server_hello passed through `tamper`. */
async function tamperingServer(tamper: (hello: Hello) => void): Promise<{ port: number; fingerprint: string; server: Server }> {
  const identity = ServerIdentity.generate();
  const server = createServer((socket) => {
    const channel = new MessageChannel({ peer: 'client' });
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      for (const m of channel.receive(chunk)) {
        if (m.type !== 'client_hello') continue;
        const h = new ServerHandshake({ identity, versions: [...SUPPORTED_VERSIONS] }).receive({
          versions: m.versions,
          ephemeral: Buffer.from(m.ephemeral, 'base64url'),
        });
        const hello: Hello = {
          type: 'server_hello',
          version: h.version,
          versions: h.versions,
          ephemeral: b64(h.ephemeral),
          identity: b64(h.identity),
          signature: b64(h.signature),
          finished: b64(h.finished),
        };
        tamper(hello);
        for (const frame of channel.frame([hello])) socket.write(frame);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, fingerprint: identity.fingerprint(), server };
}

function flip(field: string, at = 0): string {
  const bytes = Buffer.from(field, 'base64url');
  bytes[at] = bytes[at]! ^ 0x01;
  return b64(bytes);
}

describe('handshake failures say why', () => {
  const fx = new Fixture();
  const servers: Server[] = [];
  afterEach(async () => {
    await fx.cleanup();
    await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function refusal(tamper: (hello: Hello) => void): Promise<HushError> {
    const fake = await tamperingServer(tamper);
    servers.push(fake.server);
    const error = await fx.connect({ host: '127.0.0.1', port: fake.port, fingerprint: fake.fingerprint }, { reconnect: false }).then(
      () => new Error('the tampered handshake was accepted'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HushError);
    return error as HushError;
  }

  it('an untampered fake server is accepted (the tampering is the only difference)', async () => {
    const fake = await tamperingServer(() => undefined);
    servers.push(fake.server);
    const client = await fx.connect({ host: '127.0.0.1', port: fake.port, fingerprint: fake.fingerprint }, { reconnect: false });
    expect(client.fingerprint).toBe(fake.fingerprint);
  });

  it('a bad signature', async () => {
    const e = await refusal((h) => (h.signature = flip(h.signature)));
    expect(e.code).toBe('HANDSHAKE_FAILED');
    expect((e.cause as CryptoError).code).toBe('BAD_SIGNATURE');
    expect(e.message).toMatch(/the server's signature does not verify: someone may be intercepting the connection/);
  });

  it('a low-order ephemeral key', async () => {
    const e = await refusal((h) => (h.ephemeral = b64(new Uint8Array(32))));
    expect((e.cause as CryptoError).code).toBe('LOW_ORDER_POINT');
    expect(e.message).toMatch(/the server offered a low-order key/);
  });

  it('an edited version list (downgrade)', async () => {
    // The server's list as the client receives it no longer holds the version the server chose.
    const e = await refusal((h) => (h.versions = h.versions.map((v) => (v === h.version ? v + 100 : v))));
    expect((e.cause as CryptoError).code).toBe('VERSION_MISMATCH');
    expect(e.message).toMatch(/a protocol version was removed in transit \(downgrade\)/);
  });

  it('a forged finished MAC', async () => {
    const e = await refusal((h) => (h.finished = flip(h.finished, 5)));
    expect((e.cause as CryptoError).code).toBe('HANDSHAKE_FAILED');
    expect(e.message).toMatch(/handshake confirmation does not match/);
  });

  it('anything else keeps the generic reason', () => {
    expect(handshakeFailure(new Error('x')).message).toMatch(/failed to authenticate the handshake/);
    expect(handshakeFailure(new Error('x')).code).toBe('HANDSHAKE_FAILED');
  });
});
