// Sender keys: known-answer vectors (test/vectors/sender-keys.json), recomputed from the
// specification with independent pieces (node HMAC/HKDF/ChaCha20-Poly1305, tweetnacl Ed25519, a
// hand-built message), and the behaviour a room relies on: forward secrecy, no forgery between
// members, replays and reordering noticed, bounded skipping, state that survives a restart.
import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  InboundSenderKey,
  OutboundSenderKey,
  SENDER_KEY_MAX_SKIP,
  SENDER_KEY_MAX_SKIPPED,
  decodeSenderKeyDistribution,
  decodeSenderKeyMessage,
  encodeSenderKeyDistribution,
} from '../src/index.js';
import { kdfCk } from '../src/ratchet.js';
import { senderMessageCipherKeys } from '../src/sender-keys.js';
import { bytes, expectCryptoError, hex, unhex } from './helpers.js';
import v from './vectors/sender-keys.json';

const u16 = (n: number): number[] => [n >>> 8, n & 0xff];
const u32 = (n: number): number[] => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const str16 = (s: string): number[] => {
  const b = [...Buffer.from(s)];
  return [...u16(b.length), ...b];
};

/** The vectors' key, rebuilt from its fixed random bytes. */
function vectorKey(): OutboundSenderKey {
  const queue = [Uint8Array.of(...u32(v.keyId)), unhex(v.chain[0]!.chainKey), unhex(v.signingSeed)];
  return OutboundSenderKey.create(v.room, v.senderDevice, (n) => {
    const next = queue.shift()!;
    expect(next.length).toBe(n);
    return next.slice();
  });
}

function member(sender: OutboundSenderKey, device = 'dev-a', room = 'room'): InboundSenderKey {
  return InboundSenderKey.fromDistribution(decodeSenderKeyDistribution(encodeSenderKeyDistribution(sender.distribution())), device, room);
}

const text = (b: Uint8Array): string => new TextDecoder().decode(b);

describe('sender keys: known-answer vectors', () => {
  it('chain ratchet and message keys, from HMAC-SHA-256 and HKDF-SHA-256 directly', () => {
    let chainKey = unhex(v.chain[0]!.chainKey);
    for (const row of v.chain) {
      expect(hex(chainKey)).toBe(row.chainKey);
      const hmac = (d: number) => new Uint8Array(createHmac('sha256', chainKey).update(Uint8Array.of(d)).digest());
      expect(hex(hmac(0x01))).toBe(row.messageKey);
      const okm = new Uint8Array(
        hkdfSync('sha256', unhex(row.messageKey), new Uint8Array(32), Buffer.from('Hush Sender Key message v1'), 44),
      );
      expect(hex(okm.slice(0, 32))).toBe(row.aeadKey);
      expect(hex(okm.slice(32))).toBe(row.nonce);
      // and the implementation agrees
      const step = kdfCk(chainKey);
      expect(hex(step.messageKey)).toBe(row.messageKey);
      const keys = senderMessageCipherKeys(step.messageKey);
      expect([hex(keys.key), hex(keys.nonce)]).toEqual([row.aeadKey, row.nonce]);
      expect(hex(step.chainKey)).toBe(hex(hmac(0x02)));
      chainKey = step.chainKey;
    }
  });

  it('the signed message: rebuilt by hand, signature checked with tweetnacl, and reproduced', () => {
    const row = v.chain[v.message.iteration]!;
    expect(hex(nacl.sign.keyPair.fromSeed(unhex(v.signingSeed)).publicKey)).toBe(v.signingKey);
    const header = [0xe2, ...u32(v.keyId), ...u32(v.message.iteration)];
    const ad = Uint8Array.from([...Buffer.from('Hush Sender Key v1'), ...str16(v.room), ...str16(v.senderDevice), ...header]);
    const cipher = createCipheriv('chacha20-poly1305', unhex(row.aeadKey), unhex(row.nonce), { authTagLength: 16 });
    cipher.setAAD(ad, { plaintextLength: Buffer.byteLength(v.message.plaintext) });
    const ciphertext = Buffer.concat([cipher.update(v.message.plaintext), cipher.final(), cipher.getAuthTag()]);
    const signature = nacl.sign.detached(
      Uint8Array.from([...ad, ...ciphertext]),
      nacl.sign.keyPair.fromSeed(unhex(v.signingSeed)).secretKey,
    );
    expect(hex(Uint8Array.from([...header, ...ciphertext, ...signature]))).toBe(v.message.encoded);

    const key = vectorKey();
    key.encrypt(bytes('skip 0'));
    key.encrypt(bytes('skip 1'));
    expect(hex(key.encrypt(bytes(v.message.plaintext)))).toBe(v.message.encoded);
  });

  it('the distribution encoding, and a member given it opens the vector message', () => {
    const key = vectorKey();
    const expected = [0xe3, ...str16(v.room), ...u32(v.keyId), ...u32(0), ...unhex(v.chain[0]!.chainKey), ...unhex(v.signingKey)];
    expect(hex(encodeSenderKeyDistribution(key.distribution()))).toBe(hex(Uint8Array.from(expected)));
    expect(v.distribution).toBe(hex(Uint8Array.from(expected)));
    const inbound = InboundSenderKey.fromDistribution(decodeSenderKeyDistribution(unhex(v.distribution)), v.senderDevice, v.room);
    const opened = inbound.decrypt(unhex(v.message.encoded));
    expect(text(opened.plaintext)).toBe(v.message.plaintext);
    expect(opened).toMatchObject({ iteration: 2, order: 'ahead' });
  });
});

describe('sender keys: behaviour', () => {
  it('every member opens each message once, in order', () => {
    const sender = OutboundSenderKey.create('room', 'dev-a');
    const [bob, carol] = [member(sender), member(sender)];
    for (let i = 0; i < 20; i++) {
      const m = sender.encrypt(bytes(`m${i}`));
      for (const r of [bob, carol]) expect(r.decrypt(m)).toMatchObject({ iteration: i, order: 'next' });
    }
  });

  it('a replay is refused, also after a restart from the saved state', () => {
    const sender = OutboundSenderKey.create('room', 'dev-a');
    const bob = member(sender);
    const m0 = sender.encrypt(bytes('a'));
    bob.decrypt(m0);
    expectCryptoError(() => bob.decrypt(m0), 'MESSAGE_REPLAYED');
    expectCryptoError(() => InboundSenderKey.fromBytes(bob.toBytes()).decrypt(m0), 'MESSAGE_REPLAYED');
  });

  it('reordering within a chain is reported (ahead, then late) and each message opens exactly once', () => {
    const sender = OutboundSenderKey.create('room', 'dev-a');
    const bob = member(sender);
    const ms = [0, 1, 2, 3].map((i) => sender.encrypt(bytes(`m${i}`)));
    expect(bob.decrypt(ms[2]!)).toMatchObject({ iteration: 2, order: 'ahead' });
    const restarted = InboundSenderKey.fromBytes(bob.toBytes());
    expect(text(restarted.decrypt(ms[0]!).plaintext)).toBe('m0');
    expect(restarted.decrypt(ms[1]!)).toMatchObject({ iteration: 1, order: 'late' });
    expect(restarted.decrypt(ms[3]!)).toMatchObject({ iteration: 3, order: 'next' });
    for (const m of ms) expectCryptoError(() => restarted.decrypt(m), 'MESSAGE_REPLAYED');
  });

  it("a member cannot forge another member's message: its own signing key does not pass, nor a signature moved over", () => {
    const alice = OutboundSenderKey.create('room', 'dev-a');
    const mallory = OutboundSenderKey.create('room', 'dev-m');
    const bobOfAlice = member(alice, 'dev-a');
    // Mallory holds Alice's chain key (every member does) and encrypts with it under her own signing key.
    const forged = OutboundSenderKey.fromBytes(forgeState(alice, mallory)).encrypt(bytes('pay mallory'));
    expectCryptoError(() => bobOfAlice.decrypt(forged), 'SENDER_SIGNATURE_INVALID');
    // A flipped ciphertext bit or a signature from another message fails too; the state is unchanged.
    const real = alice.encrypt(bytes('hi'));
    const flipped = real.slice();
    flipped[12]! ^= 1;
    expectCryptoError(() => bobOfAlice.decrypt(flipped), 'SENDER_SIGNATURE_INVALID');
    expect(text(bobOfAlice.decrypt(real).plaintext)).toBe('hi');
  });

  it('a message is bound to its room and sender device', () => {
    const alice = OutboundSenderKey.create('room', 'dev-a');
    const m = alice.encrypt(bytes('x'));
    const distribution = alice.distribution();
    expectCryptoError(() => InboundSenderKey.fromDistribution(distribution, 'dev-a', 'other'), 'INVALID_ARGUMENT');
    const asOtherDevice = InboundSenderKey.fromDistribution({ ...distribution, iteration: 0 }, 'dev-b', 'room');
    expectCryptoError(() => asOtherDevice.decrypt(m), 'SENDER_SIGNATURE_INVALID');
  });

  it('forward secrecy: a key received at iteration n opens nothing before n; a new key (rotation) opens nothing of the old', () => {
    const alice = OutboundSenderKey.create('room', 'dev-a');
    const early = [alice.encrypt(bytes('before 0')), alice.encrypt(bytes('before 1'))];
    const joiner = member(alice);
    for (const m of early) expectCryptoError(() => joiner.decrypt(m), 'SENDER_KEY_UNKNOWN');
    expect(text(joiner.decrypt(alice.encrypt(bytes('after'))).plaintext)).toBe('after');

    const rotated = OutboundSenderKey.create('room', 'dev-a');
    expect(rotated.keyId).not.toBe(alice.keyId);
    expectCryptoError(() => joiner.decrypt(rotated.encrypt(bytes('secret'))), 'SENDER_KEY_UNKNOWN');
  });

  it(`a jump of more than ${SENDER_KEY_MAX_SKIP} is refused; the skipped keys stay bounded at ${SENDER_KEY_MAX_SKIPPED}`, () => {
    const alice = OutboundSenderKey.create('room', 'dev-a');
    const bob = member(alice);
    const kept: Uint8Array[] = [];
    for (let i = 0; i <= SENDER_KEY_MAX_SKIP; i++) kept.push(alice.encrypt(bytes(`${i}`)));
    expectCryptoError(() => bob.decrypt(alice.encrypt(bytes('far'))), 'TOO_MANY_SKIPPED');
    expect(text(bob.decrypt(kept[SENDER_KEY_MAX_SKIP]!).plaintext)).toBe(`${SENDER_KEY_MAX_SKIP}`);
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < SENDER_KEY_MAX_SKIP - 1; i++) kept.push(alice.encrypt(bytes('.')));
      bob.decrypt(alice.encrypt(bytes('tip')));
    }
    // 1000 + 1000 + 999 skipped (the refused one among them): the oldest were dropped, the newest still open.
    expectCryptoError(() => bob.decrypt(kept[0]!), 'MESSAGE_REPLAYED');
    expect(bob.decrypt(kept[kept.length - 1]!).order).toBe('late');
    expect(InboundSenderKey.fromBytes(bob.toBytes()).toBytes().length).toBeLessThan(100 + 36 * (SENDER_KEY_MAX_SKIPPED + 1));
  });

  it('the outbound state survives a restart and continues the chain', () => {
    const alice = OutboundSenderKey.create('room', 'dev-a');
    const bob = member(alice);
    bob.decrypt(alice.encrypt(bytes('1')));
    const again = OutboundSenderKey.fromBytes(alice.toBytes());
    expect(again.iteration).toBe(1);
    expect(text(bob.decrypt(again.encrypt(bytes('2'))).plaintext)).toBe('2');
  });

  it('malformed messages, distributions and states get clear errors', () => {
    expectCryptoError(() => decodeSenderKeyMessage(new Uint8Array(10)), 'BOX_OPEN_FAILED');
    expectCryptoError(() => decodeSenderKeyDistribution(new Uint8Array([0xe3, 0, 1])), 'BOX_OPEN_FAILED');
    expectCryptoError(() => InboundSenderKey.fromBytes(new Uint8Array([1, 0x49])), 'SESSION_STATE_INVALID');
    expectCryptoError(
      () => OutboundSenderKey.fromBytes(member(OutboundSenderKey.create('r', 'd'), 'd', 'r').toBytes()),
      'SESSION_STATE_INVALID',
    );
  });
});

/** Alice's outbound state with Mallory's signing seed in place of Alice's (what a member could build). */
function forgeState(alice: OutboundSenderKey, mallory: OutboundSenderKey): Uint8Array {
  const a = alice.toBytes();
  const m = mallory.toBytes();
  return Uint8Array.from([...a.subarray(0, a.length - 32), ...m.subarray(m.length - 32)]);
}

describe('sender keys: any delivery order', () => {
  it('every message opens exactly once whatever the order and duplication (within the skip bound)', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(29), { minLength: 1, maxLength: 60 }), (order) => {
        const alice = OutboundSenderKey.create('room', 'dev-a');
        const bob = member(alice);
        const sent = Array.from({ length: 30 }, (_, i) => alice.encrypt(bytes(`m${i}`)));
        const opened = new Set<number>();
        for (const i of order) {
          if (opened.has(i)) {
            expectCryptoError(() => bob.decrypt(sent[i]!), 'MESSAGE_REPLAYED');
            continue;
          }
          const got = bob.decrypt(sent[i]!);
          expect([got.iteration, text(got.plaintext)]).toEqual([i, `m${i}`]);
          const next = opened.size === 0 ? 0 : Math.max(...opened) + 1;
          expect(got.order).toBe(i < next ? 'late' : i === next ? 'next' : 'ahead');
          opened.add(i);
        }
      }),
      { numRuns: 100 },
    );
  });
});
