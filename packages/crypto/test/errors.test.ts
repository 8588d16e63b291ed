import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CRYPTO_ERROR_CODES,
  ClientHandshake,
  CryptoError,
  DeviceIdentity,
  FileOpener,
  ServerHandshake,
  ServerIdentity,
  SessionCipher,
  decodeSealedDirect,
  hkdf,
  isCryptoError,
  openToken,
  sealToken,
  verifyBundle,
  type CryptoErrorCode,
} from '../src/index.js';
import { expectCryptoError } from './helpers.js';

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
  LOW_ORDER_POINT: () => new ServerHandshake({ identity: ServerIdentity.generate(), versions: [1] }).receive({ versions: [1], ephemeral: new Uint8Array(32) }),
  VERSION_MISMATCH: () => new ServerHandshake({ identity: ServerIdentity.generate(), versions: [2] }).receive({ versions: [1], ephemeral: new Uint8Array(32).fill(9) }),
  BAD_BUNDLE: () => verifyBundle({ ...DeviceIdentity.generate().bundle(), signature: new Uint8Array(64) }),
  BOX_OPEN_FAILED: () => decodeSealedDirect(new Uint8Array(3)),
  BAD_KEY: () => sealToken(new Uint8Array(31), new Uint8Array(1)),
  FILE_CORRUPT: () => new FileOpener(new Uint8Array(32), new Uint8Array(16)).finish(),
  INVALID_ARGUMENT: () => hkdf(new Uint8Array(1), new Uint8Array(0), '', 255 * 64 + 1),
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
