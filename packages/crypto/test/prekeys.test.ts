import { hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PREKEY_POLICY,
  DeviceIdentity,
  MAX_ONE_TIME_PREKEYS,
  RatchetSession,
  decodePrekeyBundle,
  decodeSignedPrekey,
  encodePrekeyBundle,
  encodeSignedPrekey,
  generateOneTimePrekeys,
  generateSignedPrekey,
  oneTimePrekeysToAdd,
  planSignedPrekeys,
  publicSignedPrekey,
  verifyPrekeyBundle,
  verifySignedPrekey,
  type PrekeyBundle,
  type SignedPrekey,
} from '../src/index.js';
import { bitFlips, bytes, expectCryptoError, hex, lowOrderPoints } from './helpers.js';
import { T0, TestDevice, text } from './ratchet-helpers.js';

const DAY = 86_400_000;

/** The Ed25519 key pair a DeviceIdentity derives (device.ts), so a test can sign what the API never would. */
function signKeyPair(device: DeviceIdentity): nacl.SignKeyPair {
  return nacl.sign.keyPair.fromSeed(
    new Uint8Array(hkdfSync('sha512', device.secret, new Uint8Array(0), Buffer.from('hush device sign key v1'), 32)),
  );
}

function signedPrekeyMessage(id: number, createdAt: number, publicKey: Uint8Array): Uint8Array {
  const label = bytes('hush signed prekey v1');
  const out = Buffer.alloc(2 + label.length + 4 + 8 + 2 + 32);
  out.writeUInt16BE(label.length, 0);
  out.set(label, 2);
  const at = 2 + label.length;
  out.writeUInt32BE(id, at);
  out.writeBigUInt64BE(BigInt(createdAt), at + 4);
  out.writeUInt16BE(32, at + 12);
  out.set(publicKey, at + 14);
  return out;
}

describe('signed prekeys', () => {
  const device = DeviceIdentity.generate();
  const spk = generateSignedPrekey(device, { id: 7, now: T0 });

  it('are signed by the device key over the documented message (checked with tweetnacl)', () => {
    expect(hex(spk.publicKey)).toBe(hex(nacl.scalarMult.base(spk.secretKey)));
    expect(nacl.sign.detached.verify(signedPrekeyMessage(7, T0, spk.publicKey), spk.signature, device.signPublicKey)).toBe(true);
    verifySignedPrekey(device.signPublicKey, spk);
    expect(Object.keys(publicSignedPrekey(spk)).sort()).toEqual(['createdAt', 'id', 'publicKey', 'signature']);
  });

  it('a bad signature is BAD_PREKEY_SIGNATURE: any flipped bit, a changed id or date, another device', () => {
    for (const [, flipped] of bitFlips(spk.signature))
      expectCryptoError(() => verifySignedPrekey(device.signPublicKey, { ...spk, signature: flipped }), 'BAD_PREKEY_SIGNATURE');
    for (const [, flipped] of bitFlips(spk.publicKey)) {
      expect(() => verifySignedPrekey(device.signPublicKey, { ...spk, publicKey: flipped })).toThrow(/signature|low-order/);
    }
    expectCryptoError(() => verifySignedPrekey(device.signPublicKey, { ...spk, id: 8 }), 'BAD_PREKEY_SIGNATURE');
    expectCryptoError(() => verifySignedPrekey(device.signPublicKey, { ...spk, createdAt: T0 + 1 }), 'BAD_PREKEY_SIGNATURE');
    expectCryptoError(() => verifySignedPrekey(DeviceIdentity.generate().signPublicKey, spk), 'BAD_PREKEY_SIGNATURE');
  });

  it('malformed ones are BAD_BUNDLE', () => {
    expectCryptoError(() => verifySignedPrekey(device.signPublicKey, { ...spk, publicKey: new Uint8Array(31) }), 'BAD_BUNDLE');
    expectCryptoError(() => verifySignedPrekey(device.signPublicKey, { ...spk, id: -1 }), 'BAD_BUNDLE');
    expectCryptoError(() => verifySignedPrekey(device.signPublicKey, null as never), 'BAD_BUNDLE');
    expectCryptoError(() => generateSignedPrekey(device, { id: 2 ** 32, now: T0 }), 'INVALID_ARGUMENT');
  });

  it(`a correctly signed low-order key (${lowOrderPoints.length} encodings) is LOW_ORDER_POINT`, () => {
    const keys = signKeyPair(device);
    expect(hex(keys.publicKey)).toBe(hex(device.signPublicKey));
    for (const point of lowOrderPoints) {
      const forged: SignedPrekey = {
        id: 1,
        createdAt: T0,
        publicKey: point,
        signature: nacl.sign.detached(signedPrekeyMessage(1, T0, point), keys.secretKey),
      };
      expectCryptoError(() => verifySignedPrekey(device.signPublicKey, forged), 'LOW_ORDER_POINT');
    }
  });

  it('encode and decode canonically (108 bytes)', () => {
    const encoded = encodeSignedPrekey(spk);
    expect(encoded.length).toBe(108);
    const decoded = decodeSignedPrekey(encoded);
    expect(decoded).toEqual(publicSignedPrekey(spk));
    expect(hex(encodeSignedPrekey(decoded))).toBe(hex(encoded));
    expectCryptoError(() => decodeSignedPrekey(encoded.subarray(1)), 'BAD_BUNDLE');
    expectCryptoError(() => decodeSignedPrekey(Uint8Array.from([...encoded, 0])), 'BAD_BUNDLE');
  });
});

describe('one-time prekeys', () => {
  it('come with consecutive ids and distinct keys', () => {
    const keys = generateOneTimePrekeys({ firstId: 41, count: 20 });
    expect(keys.map((k) => k.id)).toEqual(Array.from({ length: 20 }, (_, i) => 41 + i));
    expect(new Set(keys.map((k) => hex(k.publicKey))).size).toBe(20);
    for (const k of keys) expect(hex(k.publicKey)).toBe(hex(nacl.scalarMult.base(k.secretKey)));
    expect(generateOneTimePrekeys({ firstId: 0, count: 0 })).toEqual([]);
    expectCryptoError(() => generateOneTimePrekeys({ firstId: 0, count: MAX_ONE_TIME_PREKEYS + 1 }), 'INVALID_ARGUMENT');
    expectCryptoError(() => generateOneTimePrekeys({ firstId: 2 ** 32 - 1, count: 2 }), 'INVALID_ARGUMENT');
  });
});

describe('prekey bundles', () => {
  const bob = new TestDevice(3);
  const bundle = bob.bundle();

  it('verify, and encode and decode canonically with and without a one-time prekey', () => {
    verifyPrekeyBundle(bundle);
    const withOtp = encodePrekeyBundle(bundle);
    expect(withOtp.length).toBe(1 + 128 + 108 + 1 + 36);
    expect(decodePrekeyBundle(withOtp)).toEqual(bundle);
    const { oneTimePrekey: _, ...bare } = bundle;
    const without = encodePrekeyBundle(bare);
    expect(without.length).toBe(1 + 128 + 108 + 1);
    expect(decodePrekeyBundle(without)).toEqual(bare);
    verifyPrekeyBundle(decodePrekeyBundle(without));
    for (let len = 0; len < withOtp.length; len++) expectCryptoError(() => decodePrekeyBundle(withOtp.subarray(0, len)), 'BAD_BUNDLE');
    const badFlag = Uint8Array.from(without);
    badFlag[badFlag.length - 1] = 2;
    expectCryptoError(() => decodePrekeyBundle(badFlag), 'BAD_BUNDLE');
  });

  it('a wrong bundle from the server is refused before any key is used', () => {
    const alice = DeviceIdentity.generate();
    const mallory = new TestDevice(1);
    const start = (b: PrekeyBundle) => () => RatchetSession.start(alice, b);
    // another device's signed prekey under bob's identity
    expectCryptoError(start({ ...bundle, signedPrekey: mallory.bundle().signedPrekey }), 'BAD_PREKEY_SIGNATURE');
    // bob's identity with its box key swapped
    expectCryptoError(start({ ...bundle, identity: { ...bundle.identity, boxKey: mallory.identity.boxPublicKey } }), 'BAD_BUNDLE');
    expectCryptoError(start({ ...bundle, signedPrekey: undefined as never }), 'BAD_BUNDLE');
    for (const point of lowOrderPoints) {
      expectCryptoError(start({ ...bundle, oneTimePrekey: { id: 1, publicKey: point } }), 'LOW_ORDER_POINT');
    }
    expectCryptoError(start({ ...bundle, oneTimePrekey: { id: 1, publicKey: new Uint8Array(5) } }), 'BAD_BUNDLE');
  });

  it('a low-order ephemeral or ratchet key in a message is LOW_ORDER_POINT', () => {
    const alice = new TestDevice();
    const a = RatchetSession.start(alice.identity, bob.bundle());
    const first = a.encrypt(text('hi'));
    const ephemeralAt = 2 + 128;
    for (const point of lowOrderPoints) {
      const m = Uint8Array.from(first);
      m.set(point, ephemeralAt);
      expectCryptoError(() => RatchetSession.accept(bob.identity, m, bob.lookup, { now: T0 }), 'LOW_ORDER_POINT');
    }
    const { session: b } = bob.accept(first);
    const reply = b.encrypt(text('r'));
    for (const point of lowOrderPoints) {
      const m = Uint8Array.from(reply);
      m.set(point, 2); // the ratchet key of a message without the X3DH header
      expectCryptoError(() => a.decrypt(m, { now: T0 }), 'LOW_ORDER_POINT');
    }
    expect(new TextDecoder().decode(a.decrypt(reply, { now: T0 }))).toBe('r');
  });

  it('an initial message with a forged identity (bundle signature) is BAD_BUNDLE', () => {
    const alice = new TestDevice();
    const first = RatchetSession.start(alice.identity, bob.bundle()).encrypt(text('hi'));
    const m = Uint8Array.from(first);
    m[2 + 64 + 5]! ^= 1; // the identity bundle's signature
    expectCryptoError(() => RatchetSession.accept(bob.identity, m, bob.lookup, { now: T0 }), 'BAD_BUNDLE');
  });
});

describe('rotation policy', () => {
  const spk = (id: number, createdAt: number): SignedPrekey => ({
    id,
    createdAt,
    publicKey: new Uint8Array(32),
    signature: new Uint8Array(64),
  });

  it(`rotates after ${DEFAULT_PREKEY_POLICY.rotateAfterMs / DAY} days, keeps a replaced key ${DEFAULT_PREKEY_POLICY.keepReplacedForMs / DAY} days after its successor`, () => {
    expect(planSignedPrekeys([], T0)).toEqual({ rotate: true, keep: [], discard: [] });
    expect(planSignedPrekeys([spk(1, T0)], T0 + 7 * DAY - 1).rotate).toBe(false);
    expect(planSignedPrekeys([spk(1, T0)], T0 + 7 * DAY).rotate).toBe(true);
    const held = [spk(1, T0), spk(3, T0 + 14 * DAY), spk(2, T0 + 7 * DAY)];
    const at = (days: number) => planSignedPrekeys(held, T0 + days * DAY);
    expect(at(15).keep.map((k) => k.id)).toEqual([3, 2, 1]);
    expect(at(37 - 1 / 24).keep.map((k) => k.id)).toEqual([3, 2, 1]);
    expect(at(37)).toMatchObject({ rotate: true, discard: [{ id: 1 }] });
    expect(at(44).keep.map((k) => k.id)).toEqual([3]);
    expect(at(44).discard.map((k) => k.id)).toEqual([2, 1]);
    const custom = { ...DEFAULT_PREKEY_POLICY, rotateAfterMs: DAY, keepReplacedForMs: DAY };
    expect(planSignedPrekeys(held, T0 + 15 * DAY, custom)).toMatchObject({
      rotate: true,
      keep: [{ id: 3 }],
      discard: [{ id: 2 }, { id: 1 }],
    });
  });

  it('refills one-time prekeys below the low-water mark up to the target', () => {
    expect(oneTimePrekeysToAdd(0)).toBe(100);
    expect(oneTimePrekeysToAdd(24)).toBe(76);
    expect(oneTimePrekeysToAdd(25)).toBe(0);
    expect(oneTimePrekeysToAdd(3, { ...DEFAULT_PREKEY_POLICY, oneTimeTarget: 10, oneTimeLowWater: 5 })).toBe(7);
    expectCryptoError(() => oneTimePrekeysToAdd(-1), 'INVALID_ARGUMENT');
  });
});
