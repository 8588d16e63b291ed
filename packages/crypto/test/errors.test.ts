import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeSessionMessage,
  CRYPTO_ERROR_CODES,
  ClientHandshake,
  CryptoError,
  DeviceIdentity,
  FileOpener,
  InboundSenderKey,
  OutboundSenderKey,
  RatchetSession,
  generateSignedPrekey,
  verifySignedPrekey,
  ServerHandshake,
  ServerIdentity,
  SessionCipher,
  hkdf,
  isCryptoError,
  openToken,
  sealToken,
  verifyBundle,
  type CryptoErrorCode,
} from '../src/index.js';
import { expectCryptoError } from './helpers.js';
import { T0, TestDevice, pair, text } from './ratchet-helpers.js';

function restartedSession(): () => unknown {
  const { alice, bob, b } = pair();
  const other = RatchetSession.start(alice.identity, bob.bundle()).encrypt(text('x'));
  return () => b.decrypt(other, { now: T0 });
}

// One real way to trigger each code, checked for class, code and message.
const triggers: Record<CryptoErrorCode, () => unknown> = {
  INVALID_TOKEN: () => openToken(new Uint8Array(32), new Uint8Array(100)),
  RECORD_REJECTED: () => new SessionCipher({ sendKey: new Uint8Array(32), receiveKey: new Uint8Array(32) }).open(new Uint8Array(40)),
  HANDSHAKE_FAILED: () => new ClientHandshake({ versions: [1] }).receive({} as never),
  BAD_SIGNATURE: () => {
    const client = new ClientHandshake({ versions: [1] });
    const hello = new ServerHandshake({ identity: ServerIdentity.generate(), versions: [1] }).receive(client.start());
    return client.receive({ ...hello, signature: new Uint8Array(64) });
  },
  LOW_ORDER_POINT: () =>
    new ServerHandshake({ identity: ServerIdentity.generate(), versions: [1] }).receive({ versions: [1], ephemeral: new Uint8Array(32) }),
  VERSION_MISMATCH: () =>
    new ServerHandshake({ identity: ServerIdentity.generate(), versions: [2] }).receive({
      versions: [1],
      ephemeral: new Uint8Array(32).fill(9),
    }),
  BAD_BUNDLE: () => verifyBundle({ ...DeviceIdentity.generate().bundle(), signature: new Uint8Array(64) }),
  BOX_OPEN_FAILED: () => decodeSessionMessage(new Uint8Array(3)),
  BAD_KEY: () => sealToken(new Uint8Array(31), new Uint8Array(1)),
  FILE_CORRUPT: () => new FileOpener(new Uint8Array(32), new Uint8Array(16)).finish(),
  INVALID_ARGUMENT: () => hkdf(new Uint8Array(1), new Uint8Array(0), '', 255 * 64 + 1),
  BAD_PREKEY_SIGNATURE: () => {
    const device = DeviceIdentity.generate();
    return verifySignedPrekey(device.signPublicKey, { ...generateSignedPrekey(device, { id: 1, now: T0 }), id: 2 });
  },
  PREKEY_UNKNOWN: () => {
    const bob = new TestDevice();
    const first = RatchetSession.start(DeviceIdentity.generate(), bob.bundle()).encrypt(text('x'));
    bob.signedPrekeys.clear();
    return bob.accept(first);
  },
  MESSAGE_REPLAYED: () => {
    const { a, b } = pair();
    const m = a.encrypt(text('x'));
    b.decrypt(m, { now: T0 });
    return b.decrypt(m, { now: T0 });
  },
  TOO_MANY_SKIPPED: () => {
    const { a, b } = pair();
    for (let i = 0; i <= 1000; i++) a.encrypt(text('x'));
    return b.decrypt(a.encrypt(text('x')), { now: T0 });
  },
  SESSION_OUT_OF_SYNC: () => {
    const { a, b } = pair();
    a.decrypt(b.encrypt(text('x')), { now: T0 });
    const old = RatchetSession.fromBytes(b.toBytes());
    b.decrypt(a.encrypt(text('x')), { now: T0 });
    a.decrypt(b.encrypt(text('x')), { now: T0 });
    return old.decrypt(a.encrypt(text('x')), { now: T0 });
  },
  SESSION_MISMATCH: restartedSession(),
  SESSION_STATE_INVALID: () => RatchetSession.fromBytes(new Uint8Array([1])),
  SENDER_KEY_UNKNOWN: () => {
    const sender = OutboundSenderKey.create('room', 'dev');
    const early = sender.encrypt(text('x'));
    return InboundSenderKey.fromDistribution(sender.distribution(), 'dev', 'room').decrypt(early);
  },
  SENDER_SIGNATURE_INVALID: () => {
    const sender = OutboundSenderKey.create('room', 'dev');
    return InboundSenderKey.fromDistribution(sender.distribution(), 'mallory', 'room').decrypt(sender.encrypt(text('x')));
  },
};

describe('CryptoError', () => {
  for (const code of Object.keys(CRYPTO_ERROR_CODES) as CryptoErrorCode[]) {
    it(`${code}: class, code and message`, () => {
      const err = expectCryptoError(triggers[code], code);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe('CryptoError');
      expect(err.message).toBe(CRYPTO_ERROR_CODES[code]);
      expect(isCryptoError(err, code)).toBe(true);
    });
  }

  it('keeps the cause', () => {
    const cause = new Error('inner');
    expect(new CryptoError('HANDSHAKE_FAILED', { cause }).cause).toBe(cause);
  });

  it('the README errors table lists exactly the codes of the table', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const documented = [...readme.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(CRYPTO_ERROR_CODES).sort());
  });
});
