import { hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  ClientHandshake,
  ServerHandshake,
  ServerIdentity,
  checkPin,
  fingerprint,
  hmacSha512,
  sha512,
  type ClientHello,
  type ServerHello,
} from '../src/index.js';
import { bytes, expectCryptoError, hex, lowOrderPoints } from './helpers.js';

const serverIdentity = ServerIdentity.generate();

function run(clientVersions = [1], serverVersions = [1], identity = serverIdentity) {
  const client = new ClientHandshake({ versions: clientVersions });
  const server = new ServerHandshake({ identity, versions: serverVersions });
  const hello = client.start();
  const serverHello = server.receive(hello);
  const { finished, result } = client.receive(serverHello);
  const serverResult = server.finish(finished);
  return { client: result, server: serverResult, hello, serverHello, finished };
}

/** The canonical transcript, re-encoded here independently of src/. */
function transcript(
  clientVersions: number[],
  clientEph: Uint8Array,
  version: number,
  serverVersions: number[],
  serverEph: Uint8Array,
  identity: Uint8Array,
): Uint8Array {
  const label = bytes('hush handshake v1');
  const out: number[] = [0, label.length, ...label, clientVersions.length];
  for (const v of clientVersions) out.push(v >> 8, v & 0xff);
  out.push(...clientEph, version >> 8, version & 0xff, serverVersions.length);
  for (const v of serverVersions) out.push(v >> 8, v & 0xff);
  out.push(...serverEph, ...identity);
  return Uint8Array.from(out);
}

describe('handshake round trip', () => {
  it('agrees on version, sessionId and keys; records flow both ways', () => {
    const { client, server } = run([1, 2, 3], [2, 3, 4]);
    expect(client.version).toBe(3);
    expect(server.version).toBe(3);
    expect(client.sessionId.length).toBe(32);
    expect(hex(client.sessionId)).toBe(hex(server.sessionId));
    expect(client.fingerprint).toBe(serverIdentity.fingerprint());
    expect(server.fingerprint).toBe(serverIdentity.fingerprint());
    expect(hex(client.serverIdentity)).toBe(hex(serverIdentity.publicKey));
    for (let i = 0; i < 5; i++) {
      expect(hex(server.cipher.open(client.cipher.seal(bytes(`c${i}`))))).toBe(hex(bytes(`c${i}`)));
      expect(hex(client.cipher.open(server.cipher.seal(bytes(`s${i}`))))).toBe(hex(bytes(`s${i}`)));
    }
  });

  it('gives different sessions different ids and keys', () => {
    const one = run();
    const two = run();
    expect(hex(one.client.sessionId)).not.toBe(hex(two.client.sessionId));
    expectCryptoError(() => two.server.cipher.open(one.client.cipher.seal(bytes('x'))), 'RECORD_REJECTED');
  });

  it('passes rekey limits to both ciphers', () => {
    const client = new ClientHandshake({ versions: [1], cipher: { rekeyAfterRecords: 2 } });
    const server = new ServerHandshake({ identity: serverIdentity, versions: [1], cipher: { rekeyAfterRecords: 2 } });
    const { finished, result } = client.receive(server.receive(client.start()));
    const s = server.finish(finished);
    for (let i = 0; i < 5; i++) s.cipher.open(result.cipher.seal(bytes('x')));
    expect(s.cipher.epochs.receive).toBe(2);
  });

  it('the identity round-trips through its persisted secret', () => {
    const again = ServerIdentity.fromSecret(serverIdentity.secret);
    expect(hex(again.publicKey)).toBe(hex(serverIdentity.publicKey));
    expect(run([1], [1], again).client.fingerprint).toBe(serverIdentity.fingerprint());
    expectCryptoError(() => ServerIdentity.fromSecret(new Uint8Array(31)), 'BAD_KEY');
  });
});

describe('native X25519/Ed25519 agree with tweetnacl (same keys, same outputs)', () => {
  it('reproduces ephemerals, signature, finished MACs and sessionId from tweetnacl + hkdfSync', () => {
    for (let round = 0; round < 5; round++) {
      const seed = nacl.randomBytes(32);
      const cs = nacl.randomBytes(32);
      const ss = nacl.randomBytes(32);
      const identity = ServerIdentity.fromSecret(seed);
      const naclIdentity = nacl.sign.keyPair.fromSeed(seed);
      expect(hex(identity.publicKey)).toBe(hex(naclIdentity.publicKey));

      const client = new ClientHandshake({ versions: [1, 2], ephemeralSecret: cs });
      const server = new ServerHandshake({ identity, versions: [2], ephemeralSecret: ss });
      const hello = client.start();
      expect(hex(hello.ephemeral)).toBe(hex(nacl.scalarMult.base(cs)));
      const sh = server.receive(hello);
      expect(hex(sh.ephemeral)).toBe(hex(nacl.scalarMult.base(ss)));

      const th = sha512(transcript([1, 2], hello.ephemeral, 2, [2], sh.ephemeral, identity.publicKey));
      const signed = new Uint8Array([...bytes('hush handshake signature v1\0'), ...th]);
      expect(hex(sh.signature)).toBe(hex(nacl.sign.detached(signed, naclIdentity.secretKey)));
      expect(nacl.sign.detached.verify(signed, sh.signature, identity.publicKey)).toBe(true);

      const shared = nacl.scalarMult(cs, sh.ephemeral);
      expect(hex(shared)).toBe(hex(nacl.scalarMult(ss, hello.ephemeral)));
      const okm = new Uint8Array(hkdfSync('sha512', shared, th, Buffer.from('hush handshake keys v1'), 160));
      expect(hex(sh.finished)).toBe(hex(hmacSha512(okm.slice(64, 96), th)));

      const { finished, result } = client.receive(sh);
      expect(hex(finished.finished)).toBe(hex(hmacSha512(okm.slice(96, 128), new Uint8Array([...th, ...bytes('client')]))));
      expect(hex(result.sessionId)).toBe(hex(okm.slice(128, 160)));
      expect(hex(server.finish(finished).sessionId)).toBe(hex(okm.slice(128, 160)));
    }
  });
});

describe('man in the middle and protocol abuse', () => {
  function intercept(mutate: (hello: ServerHello) => ServerHello, clientVersions = [1], serverVersions = [1]) {
    const client = new ClientHandshake({ versions: clientVersions });
    const server = new ServerHandshake({ identity: serverIdentity, versions: serverVersions });
    const sh = server.receive(client.start());
    return () => client.receive(mutate(sh));
  }

  it('a swapped server ephemeral breaks the signature', () => {
    expectCryptoError(
      intercept((h) => ({ ...h, ephemeral: nacl.box.keyPair().publicKey })),
      'BAD_SIGNATURE',
    );
  });

  it('a swapped identity without its key breaks the signature (forged signature)', () => {
    expectCryptoError(
      intercept((h) => ({ ...h, identity: ServerIdentity.generate().publicKey })),
      'BAD_SIGNATURE',
    );
    expectCryptoError(
      intercept((h) => ({ ...h, signature: nacl.randomBytes(64) })),
      'BAD_SIGNATURE',
    );
  });

  it('a MITM with its own identity completes, but the fingerprint changes and the pin says so', () => {
    const mitm = ServerIdentity.generate();
    const pinned = serverIdentity.fingerprint();
    const { client } = run([1], [1], mitm);
    expect(client.fingerprint).not.toBe(pinned);
    expect(fingerprint(client.serverIdentity)).toBe(mitm.fingerprint());
    expect(checkPin(pinned, client.fingerprint)).toBe('changed');
    expect(checkPin(pinned, run().client.fingerprint)).toBe('match');
    expect(checkPin(undefined, client.fingerprint)).toBe('new');
  });

  it('a stripped client version is a downgrade: VERSION_MISMATCH', () => {
    const client = new ClientHandshake({ versions: [1, 2] });
    const server = new ServerHandshake({ identity: serverIdentity, versions: [1, 2] });
    const hello = client.start();
    const sh = server.receive({ ...hello, versions: [1] }); // MITM strips 2
    expect(sh.version).toBe(1);
    expectCryptoError(() => client.receive(sh), 'VERSION_MISMATCH');
  });

  it('stripping the version from both hellos still fails (signature over the real lists)', () => {
    const client = new ClientHandshake({ versions: [1, 2] });
    const server = new ServerHandshake({ identity: serverIdentity, versions: [1, 2] });
    const sh = server.receive({ ...client.start(), versions: [1] });
    expectCryptoError(() => client.receive({ ...sh, versions: [1] }), 'BAD_SIGNATURE');
  });

  it('a version the client never offered, or no common version, is VERSION_MISMATCH', () => {
    expectCryptoError(
      intercept((h) => ({ ...h, version: 7, versions: [7] })),
      'VERSION_MISMATCH',
    );
    const server = new ServerHandshake({ identity: serverIdentity, versions: [3] });
    expectCryptoError(() => server.receive(new ClientHandshake({ versions: [1, 2] }).start()), 'VERSION_MISMATCH');
  });

  it('a tampered finished MAC is HANDSHAKE_FAILED, both ways', () => {
    expectCryptoError(
      intercept((h) => ({ ...h, finished: new Uint8Array(64) })),
      'HANDSHAKE_FAILED',
    );
    const client = new ClientHandshake({ versions: [1] });
    const server = new ServerHandshake({ identity: serverIdentity, versions: [1] });
    const { finished } = client.receive(server.receive(client.start()));
    const bad = Uint8Array.from(finished.finished);
    bad[0] = (bad[0] as number) ^ 1;
    expectCryptoError(() => server.finish({ finished: bad }), 'HANDSHAKE_FAILED');
  });

  it('a ClientFinished from another session is HANDSHAKE_FAILED', () => {
    const a = new ClientHandshake({ versions: [1] });
    const b = new ClientHandshake({ versions: [1] });
    const sa = new ServerHandshake({ identity: serverIdentity, versions: [1] });
    const sb = new ServerHandshake({ identity: serverIdentity, versions: [1] });
    const fa = a.receive(sa.receive(a.start())).finished;
    b.receive(sb.receive(b.start()));
    expectCryptoError(() => sb.finish(fa), 'HANDSHAKE_FAILED');
  });

  it(`every small-order point (${lowOrderPoints.length} encodings) is LOW_ORDER_POINT on both sides`, () => {
    for (const point of lowOrderPoints) {
      expect(hex(nacl.scalarMult(nacl.randomBytes(32), point))).toBe('00'.repeat(32)); // it really is low-order
      const server = new ServerHandshake({ identity: serverIdentity, versions: [1] });
      expectCryptoError(() => server.receive({ versions: [1], ephemeral: point }), 'LOW_ORDER_POINT');
      expectCryptoError(
        intercept((h) => ({ ...h, ephemeral: point })),
        'LOW_ORDER_POINT',
      );
    }
  });

  it('malformed messages are HANDSHAKE_FAILED', () => {
    const good = new ClientHandshake({ versions: [1] }).start();
    const malformed: unknown[] = [
      null,
      {},
      { versions: [1], ephemeral: new Uint8Array(31) },
      { versions: [], ephemeral: good.ephemeral },
      { versions: Array.from({ length: 17 }, (_, i) => i + 1), ephemeral: good.ephemeral },
      { versions: [1, 1], ephemeral: good.ephemeral },
      { versions: [0], ephemeral: good.ephemeral },
      { versions: [1.5], ephemeral: good.ephemeral },
      { versions: ['1'], ephemeral: good.ephemeral },
      { versions: [1], ephemeral: Array.from(good.ephemeral) },
    ];
    for (const m of malformed) {
      expectCryptoError(
        () => new ServerHandshake({ identity: serverIdentity, versions: [1] }).receive(m as ClientHello),
        'HANDSHAKE_FAILED',
      );
    }
    for (const field of ['ephemeral', 'identity', 'signature', 'finished'] as const) {
      expectCryptoError(
        intercept((h) => ({ ...h, [field]: new Uint8Array(3) })),
        'HANDSHAKE_FAILED',
      );
    }
    expectCryptoError(
      intercept((h) => ({ ...h, versions: Array.from({ length: 17 }, (_, i) => i + 1) })),
      'HANDSHAKE_FAILED',
    );
  });

  it('methods out of order, or twice, are HANDSHAKE_FAILED', () => {
    const client = new ClientHandshake({ versions: [1] });
    const server = new ServerHandshake({ identity: serverIdentity, versions: [1] });
    expectCryptoError(() => client.receive({} as ServerHello), 'HANDSHAKE_FAILED');
    expectCryptoError(() => server.finish({ finished: new Uint8Array(64) }), 'HANDSHAKE_FAILED');
    const hello = client.start();
    expectCryptoError(() => client.start(), 'HANDSHAKE_FAILED');
    const sh = server.receive(hello);
    expectCryptoError(() => server.receive(hello), 'HANDSHAKE_FAILED');
    const { finished } = client.receive(sh);
    expectCryptoError(() => client.receive(sh), 'HANDSHAKE_FAILED');
    server.finish(finished);
    expectCryptoError(() => server.finish(finished), 'HANDSHAKE_FAILED');
  });

  it('a failed client handshake cannot be retried with a corrected hello', () => {
    const client = new ClientHandshake({ versions: [1] });
    const sh = new ServerHandshake({ identity: serverIdentity, versions: [1] }).receive(client.start());
    expectCryptoError(() => client.receive({ ...sh, signature: new Uint8Array(64) }), 'BAD_SIGNATURE');
    expectCryptoError(() => client.receive(sh), 'HANDSHAKE_FAILED');
  });

  it('bad options are INVALID_ARGUMENT', () => {
    expectCryptoError(() => new ClientHandshake({ versions: [] }), 'INVALID_ARGUMENT');
    expectCryptoError(() => new ServerHandshake({ identity: {} as ServerIdentity, versions: [1] }), 'INVALID_ARGUMENT');
  });
});
