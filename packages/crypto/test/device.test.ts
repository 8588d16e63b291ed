import { hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { DeviceIdentity, deviceId, sha512, signDeviceLogin, verifyBundle, verifyDeviceLogin } from '../src/index.js';
import { bytes, expectCryptoError, hex } from './helpers.js';

const device = DeviceIdentity.generate();
const sessionId = nacl.randomBytes(32);
const challenge = nacl.randomBytes(32);

describe('DeviceIdentity', () => {
  it('derives both key pairs from the seed, as tweetnacl does', () => {
    const seed = nacl.randomBytes(32);
    const d = DeviceIdentity.fromSecret(seed);
    const signSeed = new Uint8Array(hkdfSync('sha512', seed, new Uint8Array(0), Buffer.from('hush device sign key v1'), 32));
    const boxSecret = new Uint8Array(hkdfSync('sha512', seed, new Uint8Array(0), Buffer.from('hush device box key v1'), 32));
    expect(hex(d.signPublicKey)).toBe(hex(nacl.sign.keyPair.fromSeed(signSeed).publicKey));
    expect(hex(d.boxPublicKey)).toBe(hex(nacl.scalarMult.base(boxSecret)));
    expect(hex(DeviceIdentity.fromSecret(d.secret).signPublicKey)).toBe(hex(d.signPublicKey));
    expectCryptoError(() => DeviceIdentity.fromSecret(new Uint8Array(16)), 'BAD_KEY');
  });

  it('publishes a bundle whose native signature verifies with tweetnacl', () => {
    const b = device.bundle();
    verifyBundle(b);
    const label = bytes('hush device bundle v1');
    const message = new Uint8Array([0, label.length, ...label, 0, 32, ...b.boxKey]);
    expect(nacl.sign.detached.verify(message, b.signature, b.signKey)).toBe(true);
  });

  it('refuses tampered bundles', () => {
    const b = device.bundle();
    for (const field of ['signKey', 'boxKey', 'signature'] as const) {
      for (const bit of [0, 100, 255]) {
        const copy = { ...b, [field]: Uint8Array.from(b[field]) };
        copy[field][bit >> 3] = (copy[field][bit >> 3] as number) ^ (1 << (bit & 7));
        expectCryptoError(() => verifyBundle(copy), 'BAD_BUNDLE');
      }
    }
    const other = DeviceIdentity.generate().bundle();
    expectCryptoError(() => verifyBundle({ ...b, boxKey: other.boxKey }), 'BAD_BUNDLE');
    expectCryptoError(() => verifyBundle({ ...b, signature: new Uint8Array(63) }), 'BAD_BUNDLE');
    expectCryptoError(() => verifyBundle(null as never), 'BAD_BUNDLE');
  });

  it('refuses a correctly signed bundle with a low-order box key', () => {
    const seed = nacl.randomBytes(32);
    const kp = nacl.sign.keyPair.fromSeed(seed);
    const boxKey = new Uint8Array(32); // zero point
    const label = bytes('hush device bundle v1');
    const signature = nacl.sign.detached(new Uint8Array([0, label.length, ...label, 0, 32, ...boxKey]), kp.secretKey);
    expectCryptoError(() => verifyBundle({ signKey: kp.publicKey, boxKey, signature }), 'BAD_BUNDLE');
  });

  it('deviceId is short, stable, and the same from the bundle or the key', () => {
    const id = deviceId(device.bundle());
    expect(id).toBe(deviceId(device.signPublicKey));
    expect(id).toBe(device.id());
    expect(id).toBe(Buffer.from(sha512(device.signPublicKey).subarray(0, 16)).toString('base64url'));
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(deviceId(DeviceIdentity.generate().bundle())).not.toBe(id);
  });
});

describe('device login proof', () => {
  const signature = signDeviceLogin(device, sessionId, 'alice', challenge);

  it('verifies (natively, and with tweetnacl)', () => {
    expect(verifyDeviceLogin(device.signPublicKey, sessionId, 'alice', challenge, signature)).toBe(true);
    const label = bytes('hush device login v1');
    const u = bytes('alice');
    const message = new Uint8Array([0, label.length, ...label, 0, 32, ...sessionId, 0, u.length, ...u, 0, 32, ...challenge]);
    expect(nacl.sign.detached.verify(message, signature, device.signPublicKey)).toBe(true);
  });

  it('is bound to the session, the user, the challenge and the key', () => {
    expect(verifyDeviceLogin(device.signPublicKey, nacl.randomBytes(32), 'alice', challenge, signature)).toBe(false);
    expect(verifyDeviceLogin(device.signPublicKey, sessionId, 'mallory', challenge, signature)).toBe(false);
    expect(verifyDeviceLogin(device.signPublicKey, sessionId, 'alice', nacl.randomBytes(32), signature)).toBe(false);
    expect(verifyDeviceLogin(DeviceIdentity.generate().signPublicKey, sessionId, 'alice', challenge, signature)).toBe(false);
    const flipped = Uint8Array.from(signature);
    flipped[10] = (flipped[10] as number) ^ 4;
    expect(verifyDeviceLogin(device.signPublicKey, sessionId, 'alice', challenge, flipped)).toBe(false);
  });

  it('returns false (never throws) on malformed input', () => {
    expect(verifyDeviceLogin(new Uint8Array(3), sessionId, 'alice', challenge, signature)).toBe(false);
    expect(verifyDeviceLogin(device.signPublicKey, sessionId, 'alice', challenge, new Uint8Array(10))).toBe(false);
    expect(verifyDeviceLogin(new Uint8Array(32).fill(0xff), sessionId, 'alice', challenge, signature)).toBe(false);
    expect(verifyDeviceLogin(device.signPublicKey, 'x' as never, 'alice', challenge, signature)).toBe(false);
  });
});
