// Known-answer vectors for every derivation step of the prekey sessions (test/vectors/ratchet.json).
// Each value is checked twice: against the implementation, and recomputed here from the
// specification with independent pieces (tweetnacl X25519 and Ed25519, an RFC 5869 HKDF written
// over HMAC, a hand-built message), so the JSON is not merely what the code happens to output.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  DeviceIdentity,
  RatchetSession,
  decodePrekeyBundle,
  encodePrekeyBundle,
  encodeSignedPrekey,
  generateOneTimePrekeys,
  generateSignedPrekey,
  publicSignedPrekey,
  verifyPrekeyBundle,
} from '../src/index.js';
import { kdfCk, kdfRk, messageCipherKeys } from '../src/ratchet.js';
import { x3dhKdf } from '../src/x3dh.js';
import { hex, unhex } from './helpers.js';
import v from './vectors/ratchet.json';

const X = v.x3dh;
const u8 = (...parts: (Uint8Array | number[])[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

/** RFC 5869, section 2, over HMAC-SHA-256. */
function hkdf256(ikm: Uint8Array, salt: Uint8Array, info: string, length: number): Uint8Array {
  const hmac = (key: Uint8Array, data: Uint8Array) => new Uint8Array(createHmac('sha256', key).update(data).digest());
  const prk = hmac(salt.length ? salt : new Uint8Array(32), ikm);
  let t = new Uint8Array(0);
  const out: number[] = [];
  for (let i = 1; out.length < length; i++) {
    t = hmac(prk, u8(t, Buffer.from(info), [i]));
    out.push(...t);
  }
  return Uint8Array.from(out.slice(0, length));
}

/** X25519 with tweetnacl (it clamps the scalar as RFC 7748 says). */
const dh = (secret: string, pub: string): Uint8Array => nacl.scalarMult(unhex(secret), unhex(pub));
const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const alice = DeviceIdentity.fromSecret(unhex(X.aliceDeviceSeed));
const bob = DeviceIdentity.fromSecret(unhex(X.bobDeviceSeed));

function boxSecret(seed: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha512', unhex(seed), new Uint8Array(0), Buffer.from('hush device box key v1'), 32));
}

describe('known-answer vectors (test/vectors/ratchet.json)', () => {
  it('prekeys: public keys, the signed prekey signature and the canonical encodings', () => {
    expect(hex(alice.signPublicKey)).toBe(X.aliceSignKey);
    expect(hex(alice.boxPublicKey)).toBe(X.aliceBoxKey);
    expect(hex(bob.signPublicKey)).toBe(X.bobSignKey);
    expect(hex(bob.boxPublicKey)).toBe(X.bobBoxKey);
    expect(hex(nacl.scalarMult.base(unhex(X.signedPrekeySecret)))).toBe(X.signedPrekeyPublic);
    expect(hex(nacl.scalarMult.base(unhex(X.oneTimePrekeySecret)))).toBe(X.oneTimePrekeyPublic);
    const label = Buffer.from('hush signed prekey v1');
    const createdAt = Buffer.alloc(8);
    createdAt.writeBigUInt64BE(BigInt(X.signedPrekeyCreatedAt));
    const signed = u8([0, label.length], label, u32(X.signedPrekeyId), createdAt, [0, 32], unhex(X.signedPrekeyPublic));
    expect(nacl.sign.detached.verify(signed, unhex(X.signedPrekeySignature), bob.signPublicKey)).toBe(true);

    const spk = generateSignedPrekey(bob, {
      id: X.signedPrekeyId,
      now: X.signedPrekeyCreatedAt,
      random: () => unhex(X.signedPrekeySecret),
    });
    expect(hex(spk.publicKey)).toBe(X.signedPrekeyPublic);
    expect(hex(spk.signature)).toBe(X.signedPrekeySignature); // Ed25519 is deterministic
    expect(hex(encodeSignedPrekey(spk))).toBe(X.signedPrekeyEncoded);
    expect(X.signedPrekeyEncoded).toBe(
      hex(u8(u32(X.signedPrekeyId), createdAt, unhex(X.signedPrekeyPublic), unhex(X.signedPrekeySignature))),
    );
    const [otp] = generateOneTimePrekeys({ firstId: X.oneTimePrekeyId, count: 1, random: () => unhex(X.oneTimePrekeySecret) });
    const bundle = {
      identity: bob.bundle(),
      signedPrekey: publicSignedPrekey(spk),
      oneTimePrekey: { id: otp!.id, publicKey: otp!.publicKey },
    };
    expect(hex(encodePrekeyBundle(bundle))).toBe(X.prekeyBundleEncoded);
    verifyPrekeyBundle(decodePrekeyBundle(unhex(X.prekeyBundleEncoded)));
  });

  it('X3DH: DH1..DH4, SK with and without the one-time prekey, AD', () => {
    expect(hex(dh(hex(boxSecret(X.aliceDeviceSeed)), X.signedPrekeyPublic))).toBe(X.dh1);
    expect(hex(dh(X.ephemeralSecret, X.bobBoxKey))).toBe(X.dh2);
    expect(hex(dh(X.ephemeralSecret, X.signedPrekeyPublic))).toBe(X.dh3);
    expect(hex(dh(X.ephemeralSecret, X.oneTimePrekeyPublic))).toBe(X.dh4);
    // the responder's side of each DH
    expect(hex(dh(X.signedPrekeySecret, X.aliceBoxKey))).toBe(X.dh1);
    expect(hex(dh(hex(boxSecret(X.bobDeviceSeed)), X.ephemeralPublic))).toBe(X.dh2);
    const F = new Uint8Array(32).fill(0xff);
    const dhs = [X.dh1, X.dh2, X.dh3, X.dh4].map(unhex);
    expect(hex(hkdf256(u8(F, ...dhs), new Uint8Array(32), X.info, 32))).toBe(X.sharedSecret);
    expect(hex(hkdf256(u8(F, ...dhs.slice(0, 3)), new Uint8Array(32), X.info, 32))).toBe(X.sharedSecretWithoutOneTimePrekey);
    expect(hex(x3dhKdf(dhs))).toBe(X.sharedSecret);
    expect(hex(x3dhKdf(dhs.slice(0, 3)))).toBe(X.sharedSecretWithoutOneTimePrekey);
    expect(X.associatedData).toBe(X.aliceSignKey + X.aliceBoxKey + X.bobSignKey + X.bobBoxKey);
  });

  it('KDF_RK, KDF_CK and the message key split', () => {
    const R = v.kdfRk;
    expect(hex(dh(R.aliceRatchetSecret, X.signedPrekeyPublic))).toBe(R.dhOutput);
    const okm = hkdf256(unhex(R.dhOutput), unhex(R.rootKey), R.info, 64);
    expect([hex(okm.subarray(0, 32)), hex(okm.subarray(32))]).toEqual([R.nextRootKey, R.chainKey]);
    const rk = kdfRk(unhex(R.rootKey), unhex(R.dhOutput));
    expect([hex(rk.rootKey), hex(rk.chainKey)]).toEqual([R.nextRootKey, R.chainKey]);

    const C = v.kdfCk;
    const hmac = (k: string, c: number) => createHmac('sha256', unhex(k)).update(Uint8Array.of(c)).digest('hex');
    expect([hmac(C.chainKey, 1), hmac(C.chainKey, 2)]).toEqual([C.messageKey, C.nextChainKey]);
    const ck = kdfCk(unhex(C.chainKey));
    expect([hex(ck.messageKey), hex(ck.chainKey)]).toEqual([C.messageKey, C.nextChainKey]);

    const M = v.messageKeys;
    const keys = hkdf256(unhex(M.messageKey), new Uint8Array(32), M.info, 44);
    expect([hex(keys.subarray(0, 32)), hex(keys.subarray(32))]).toEqual([M.key, M.nonce]);
    const split = messageCipherKeys(unhex(M.messageKey));
    expect([hex(split.key), hex(split.nonce)]).toEqual([M.key, M.nonce]);
  });

  it("the first message, built by hand from the vectors, equals the implementation's; Bob opens it; the reply too", () => {
    const prefix = u8(
      [0xe1, 1],
      unhex(X.aliceSignKey),
      unhex(X.aliceBoxKey),
      alice.bundle().signature,
      unhex(X.ephemeralPublic),
      u32(X.signedPrekeyId),
      [1],
      u32(X.oneTimePrekeyId),
      unhex(v.kdfRk.aliceRatchetPublic),
      u32(0),
      u32(0),
    );
    const cipher = createCipheriv('chacha20-poly1305', unhex(v.messageKeys.key), unhex(v.messageKeys.nonce), { authTagLength: 16 });
    cipher.setAAD(u8(unhex(X.associatedData), prefix), { plaintextLength: Buffer.byteLength(v.firstMessage.plaintext) });
    const body = u8(cipher.update(Buffer.from(v.firstMessage.plaintext)), cipher.final(), cipher.getAuthTag());
    expect(hex(u8(prefix, body))).toBe(v.firstMessage.message);

    const queue = [X.ephemeralSecret, v.kdfRk.aliceRatchetSecret].map(unhex);
    const bundle = decodePrekeyBundle(unhex(X.prekeyBundleEncoded));
    const a = RatchetSession.start(alice, bundle, { random: () => queue.shift()! });
    expect(hex(a.encrypt(Buffer.from(v.firstMessage.plaintext)))).toBe(v.firstMessage.message);

    const spk = generateSignedPrekey(bob, {
      id: X.signedPrekeyId,
      now: X.signedPrekeyCreatedAt,
      random: () => unhex(X.signedPrekeySecret),
    });
    const [otp] = generateOneTimePrekeys({ firstId: X.oneTimePrekeyId, count: 1, random: () => unhex(X.oneTimePrekeySecret) });
    const lookup = {
      signedPrekey: (id: number) => (id === spk.id ? spk : undefined),
      oneTimePrekey: (id: number) => (id === otp!.id ? otp : undefined),
    };
    const { session: b, plaintext } = RatchetSession.accept(bob, unhex(v.firstMessage.message), lookup, {
      now: 0,
      random: () => unhex(v.reply.bobRatchetSecret),
    });
    expect(Buffer.from(plaintext).toString()).toBe(v.firstMessage.plaintext);
    expect(hex(b.encrypt(Buffer.from(v.reply.plaintext)))).toBe(v.reply.message);
    expect(Buffer.from(a.decrypt(unhex(v.reply.message), { now: 0, random: () => nacl.randomBytes(32) })).toString()).toBe(
      v.reply.plaintext,
    );

    // The reply by hand: Bob's DH ratchet (section 3.5) from SK.
    const bobPub = nacl.scalarMult.base(unhex(v.reply.bobRatchetSecret));
    const recv = hkdf256(dh(X.signedPrekeySecret, v.kdfRk.aliceRatchetPublic), unhex(X.sharedSecret), 'Hush Ratchet root v1', 64);
    const send = hkdf256(dh(v.reply.bobRatchetSecret, v.kdfRk.aliceRatchetPublic), recv.subarray(0, 32), 'Hush Ratchet root v1', 64);
    const mk = createHmac('sha256', send.subarray(32)).update(Uint8Array.of(1)).digest();
    const keys = hkdf256(mk, new Uint8Array(32), 'Hush Ratchet message v1', 44);
    const replyPrefix = u8([0xe1, 0], bobPub, u32(0), u32(0));
    const decipher = createDecipheriv('chacha20-poly1305', keys.subarray(0, 32), keys.subarray(32), { authTagLength: 16 });
    const sealed = unhex(v.reply.message).subarray(replyPrefix.length);
    decipher.setAAD(u8(unhex(X.associatedData), replyPrefix), { plaintextLength: sealed.length - 16 });
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const opened = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
    expect(opened.toString()).toBe(v.reply.plaintext);
    expect(hex(unhex(v.reply.message).subarray(0, replyPrefix.length))).toBe(hex(replyPrefix));
  });
});
