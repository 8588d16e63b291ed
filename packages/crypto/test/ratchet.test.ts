import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { CryptoError, MAX_SKIP, MAX_SKIPPED_KEYS, RatchetSession, decodeSessionMessage, planSignedPrekeys } from '../src/index.js';
import { chachaOpen } from '../src/native.js';
import { kdfCk, messageCipherKeys } from '../src/ratchet.js';
import { bitFlips, expectCryptoError, hex } from './helpers.js';
import { T0, TestDevice, open, pair, str, text } from './ratchet-helpers.js';

const DAY = 86_400_000;

/**
 * Tries every 32-byte window of a serialised state as the message key of `message`, and as the
 * chain key it would come from (KDF_CK): true if any opens it. AD is the state's X3DH AD (bytes
 * 2..130) followed by the message's header.
 */
function opensWithStateBytes(state: Uint8Array, message: Uint8Array): boolean {
  const headerLength = message.length - decodeSessionMessage(message).ciphertext.length;
  const ad = Uint8Array.from([...state.subarray(2, 130), ...message.subarray(0, headerLength)]);
  const sealed = message.subarray(headerLength);
  for (let at = 0; at + 32 <= state.length; at++) {
    const window = state.subarray(at, at + 32);
    for (const mk of [window, kdfCk(window).messageKey]) {
      const { key, nonce } = messageCipherKeys(mk);
      if (chachaOpen(key, nonce, ad, sealed) !== null) return true;
    }
  }
  return false;
}

describe('session setup', () => {
  it('round trip: start, accept, then replies both ways across many turns', () => {
    const { alice, bob, a, b } = pair();
    expect(hex(a.baseKey)).toBe(hex(b.baseKey));
    expect(hex(a.peerIdentity.signKey)).toBe(hex(bob.identity.signPublicKey));
    expect(hex(a.peerIdentity.boxKey)).toBe(hex(bob.identity.boxPublicKey));
    expect(hex(b.peerIdentity.signKey)).toBe(hex(alice.identity.signPublicKey));
    expect(hex(b.peerIdentity.boxKey)).toBe(hex(alice.identity.boxPublicKey));
    expect(a.awaitingReply).toBe(true);
    for (let turn = 0; turn < 6; turn++) {
      const [from, to] = turn % 2 === 0 ? [b, a] : [a, b];
      const sent = [0, 1, 2].map((i) => from.encrypt(text(`turn ${turn} #${i}`)));
      expect(sent.map((m) => open(to, m))).toEqual([0, 1, 2].map((i) => `turn ${turn} #${i}`));
    }
    expect(a.awaitingReply).toBe(false);
    expect(a.skippedKeyCount + b.skippedKeyCount).toBe(0);
  });

  it('uses one one-time prekey, which then refuses a replayed start (PREKEY_UNKNOWN)', () => {
    const alice = new TestDevice();
    const bob = new TestDevice(2);
    const bundle = bob.bundle();
    expect(bundle.oneTimePrekey).toBeDefined();
    const first = RatchetSession.start(alice.identity, bundle).encrypt(text('hi'));
    expect(decodeSessionMessage(first).prekey?.oneTimePrekeyId).toBe(bundle.oneTimePrekey!.id);
    const { oneTimePrekeyId } = RatchetSession.accept(bob.identity, first, bob.lookup, { now: T0 });
    expect(oneTimePrekeyId).toBe(bundle.oneTimePrekey!.id);
    bob.oneTimePrekeys.delete(oneTimePrekeyId!);
    expect(bob.oneTimePrekeys.size).toBe(1);
    expectCryptoError(() => bob.accept(first), 'PREKEY_UNKNOWN');
  });

  it('works with the signed prekey alone once the one-time prekeys are used up', () => {
    const bob = new TestDevice(1);
    const sessions = [new TestDevice(), new TestDevice(), new TestDevice()].map((peer) => {
      const bundle = bob.bundle();
      const a = RatchetSession.start(peer.identity, bundle);
      const first = a.encrypt(text(`from ${peer.identity.id()}`));
      const header = decodeSessionMessage(first).prekey!;
      const { session: b, plaintext } = bob.accept(first);
      expect(str(plaintext)).toBe(`from ${peer.identity.id()}`);
      expect(open(a, b.encrypt(text('ack')))).toBe('ack');
      return header.oneTimePrekeyId;
    });
    expect(sessions[0]).toBe(1000);
    expect(sessions.slice(1)).toEqual([undefined, undefined]);
    expect(bob.oneTimePrekeys.size).toBe(0);
  });

  it('repeats the X3DH header until the reply, so a lost first message costs nothing', () => {
    const alice = new TestDevice();
    const bob = new TestDevice();
    const a = RatchetSession.start(alice.identity, bob.bundle());
    const lost = a.encrypt(text('one'));
    const second = a.encrypt(text('two'));
    expect(decodeSessionMessage(second).prekey).toBeDefined();
    const { session: b, plaintext } = bob.accept(second);
    expect(str(plaintext)).toBe('two');
    expect(open(b, lost)).toBe('one'); // late, from the skipped key
    expect(open(a, b.encrypt(text('three')))).toBe('three');
    expect(a.awaitingReply).toBe(false);
    expect(decodeSessionMessage(a.encrypt(text('four'))).prekey).toBeUndefined();
  });

  it('a prekey message of another session is SESSION_MISMATCH; accept makes the new session', () => {
    const { alice, bob, a, b } = pair();
    expect(open(a, b.encrypt(text('x')))).toBe('x');
    const restart = RatchetSession.start(alice.identity, bob.bundle());
    const m = restart.encrypt(text('new session'));
    expectCryptoError(() => b.decrypt(m, { now: T0 }), 'SESSION_MISMATCH');
    expect(str(bob.accept(m).plaintext)).toBe('new session');
    expectCryptoError(() => a.decrypt(m, { now: T0 }), 'SESSION_MISMATCH');
  });

  it('a message without a session is SESSION_OUT_OF_SYNC at accept (the peer must start anew)', () => {
    const { bob, a, b } = pair();
    open(a, b.encrypt(text('reply')));
    expectCryptoError(() => bob.accept(a.encrypt(text('no header any more'))), 'SESSION_OUT_OF_SYNC');
  });

  it('refuses a forged first message and the own first message reflected back', () => {
    const alice = new TestDevice();
    const bob = new TestDevice();
    const a = RatchetSession.start(alice.identity, bob.bundle());
    const first = a.encrypt(text('hi'));
    const forged = Uint8Array.from(first);
    forged[forged.length - 1]! ^= 1;
    expectCryptoError(() => bob.accept(forged), 'BOX_OPEN_FAILED');
    expectCryptoError(() => a.decrypt(first, { now: T0 }), 'BOX_OPEN_FAILED');
  });
});

describe('out of order, loss, duplicates', () => {
  it('opens a chain in any order and across DH steps (PN)', () => {
    const { a, b } = pair();
    const chain1 = Array.from({ length: 5 }, (_, i) => b.encrypt(text(`b1.${i}`)));
    expect(open(a, chain1[4]!)).toBe('b1.4');
    expect(open(a, chain1[1]!)).toBe('b1.1');
    expect(a.skippedKeyCount).toBe(3);
    // a replies, b answers on a new chain; then the rest of chain 1 arrives late
    expect(open(b, a.encrypt(text('a')))).toBe('a');
    const chain2 = [b.encrypt(text('b2.0')), b.encrypt(text('b2.1'))];
    expect(open(a, chain2[1]!)).toBe('b2.1');
    expect(open(a, chain1[3]!)).toBe('b1.3');
    expect(open(a, chain2[0]!)).toBe('b2.0');
    expect(open(a, chain1[0]!)).toBe('b1.0');
    expect(open(a, chain1[2]!)).toBe('b1.2');
    expect(a.skippedKeyCount).toBe(0);
  });

  it('keys of lost messages stay aside while later ones open; a whole lost chain is counted by PN', () => {
    const { a, b } = pair();
    b.encrypt(text('lost 0'));
    b.encrypt(text('lost 1'));
    expect(open(a, b.encrypt(text('kept')))).toBe('kept');
    expect(open(b, a.encrypt(text('turn')))).toBe('turn');
    b.encrypt(text('lost 2'));
    expect(open(b, a.encrypt(text('more')))).toBe('more');
    const next = b.encrypt(text('after a lost chain tail'));
    expect(open(a, next)).toBe('after a lost chain tail');
    expect(a.skippedKeyCount).toBe(3);
  });

  it('rejects duplicates: on the current chain, from a skipped key already used, and from an old chain', () => {
    const { a, b } = pair();
    const m0 = b.encrypt(text('0'));
    const m1 = b.encrypt(text('1'));
    const m2 = b.encrypt(text('2'));
    open(a, m0);
    open(a, m2);
    open(a, m1);
    for (const m of [m0, m1, m2]) expectCryptoError(() => a.decrypt(m, { now: T0 }), 'MESSAGE_REPLAYED');
    open(b, a.encrypt(text('turn')));
    open(a, b.encrypt(text('new chain')));
    for (const m of [m0, m1, m2]) expectCryptoError(() => a.decrypt(m, { now: T0 }), 'MESSAGE_REPLAYED');
  });

  it('rejects the first (prekey) message replayed to the session it started', () => {
    const alice = new TestDevice();
    const bob = new TestDevice();
    const a = RatchetSession.start(alice.identity, bob.bundle());
    const first = a.encrypt(text('once'));
    const { session: b } = bob.accept(first);
    expectCryptoError(() => b.decrypt(first, { now: T0 }), 'MESSAGE_REPLAYED');
    open(a, b.encrypt(text('turn')));
    open(b, a.encrypt(text('turn')));
    expectCryptoError(() => b.decrypt(first, { now: T0 }), 'MESSAGE_REPLAYED');
  });

  it('1000 messages one way without an answer, in order, then 1000 more in reverse', () => {
    const { a, b } = pair();
    for (let i = 0; i < 1000; i++) expect(open(b, a.encrypt(text(`m${i}`)))).toBe(`m${i}`);
    const batch = Array.from({ length: 1000 }, (_, i) => a.encrypt(text(`r${i}`)));
    for (let i = 999; i >= 0; i--) expect(open(b, batch[i]!)).toBe(`r${i}`);
    expect(b.skippedKeyCount).toBe(0);
  });

  it(`refuses a message more than MAX_SKIP (${MAX_SKIP}) ahead, and stays usable`, () => {
    const { a, b } = pair();
    const msgs = Array.from({ length: MAX_SKIP + 2 }, (_, i) => a.encrypt(text(`${i}`)));
    expectCryptoError(() => b.decrypt(msgs[MAX_SKIP + 1]!, { now: T0 }), 'TOO_MANY_SKIPPED');
    expect(b.skippedKeyCount).toBe(0);
    expect(open(b, msgs[MAX_SKIP]!)).toBe(`${MAX_SKIP}`); // exactly MAX_SKIP skipped: allowed
    expect(b.skippedKeyCount).toBe(MAX_SKIP);
    expect(open(b, msgs[MAX_SKIP + 1]!)).toBe(`${MAX_SKIP + 1}`);
  });

  it(`keeps at most MAX_SKIPPED_KEYS (${MAX_SKIPPED_KEYS}) skipped keys, dropping the oldest; the caller evicts by age`, () => {
    const { a, b } = pair();
    const first = a.encrypt(text('oldest'));
    for (let i = 1; i < 1000; i++) a.encrypt(text('x'));
    open(b, a.encrypt(text('t1')), T0); // 1000 skipped at T0
    open(a, b.encrypt(text('turn')), T0);
    const second = a.encrypt(text('second chain'));
    for (let i = 1; i < 1000; i++) a.encrypt(text('y'));
    open(b, a.encrypt(text('t2')), T0 + DAY); // 1000 more at T0 + 1 day
    expect(b.skippedKeyCount).toBe(MAX_SKIPPED_KEYS);
    open(b, a.encrypt(text('turn2')), T0 + DAY); // nothing more skipped
    open(a, b.encrypt(text('turn')), T0);
    a.encrypt(text('lost'));
    open(b, a.encrypt(text('t3')), T0 + 2 * DAY); // one more: the oldest goes
    expect(b.skippedKeyCount).toBe(MAX_SKIPPED_KEYS);
    expect(() => b.decrypt(first, { now: T0 })).toThrow(CryptoError);
    expect(b.evictSkippedKeys(T0 + DAY)).toBe(MAX_SKIPPED_KEYS - 1001);
    expect(open(b, second, T0 + 3 * DAY)).toBe('second chain');
    expect(b.evictSkippedKeys(T0 + 3 * DAY)).toBe(999 + 1);
    expect(b.skippedKeyCount).toBe(0);
  });

  it('both sides sending at once', () => {
    const { a, b } = pair();
    open(a, b.encrypt(text('start')));
    const fromA = [0, 1, 2].map((i) => a.encrypt(text(`a${i}`)));
    const fromB = [0, 1, 2].map((i) => b.encrypt(text(`b${i}`)));
    expect(open(b, fromA[0]!)).toBe('a0');
    expect(open(a, fromB[0]!)).toBe('b0');
    const crossA = a.encrypt(text('a3'));
    const crossB = b.encrypt(text('b3'));
    expect(open(a, fromB[2]!)).toBe('b2');
    expect(open(b, crossA)).toBe('a3');
    expect(open(a, crossB)).toBe('b3');
    expect(open(b, fromA[2]!)).toBe('a2');
    expect(open(b, fromA[1]!)).toBe('a1');
    expect(open(a, fromB[1]!)).toBe('b1');
    expect(open(b, a.encrypt(text('end')))).toBe('end');
    expect(open(a, b.encrypt(text('end')))).toBe('end');
  });
});

describe('forward secrecy and self-healing', () => {
  it('a captured state opens none of the messages before it', () => {
    const { a, b } = pair();
    const earlier: Uint8Array[] = [];
    for (let turn = 0; turn < 4; turn++) {
      const [from, to] = turn % 2 === 0 ? [a, b] : [b, a];
      for (let i = 0; i < 3; i++) {
        const m = from.encrypt(text(`secret ${turn}.${i}`));
        if (to === b) earlier.push(m);
        open(to, m);
      }
    }
    const stolen = b.toBytes();
    for (const m of earlier) {
      const thief = RatchetSession.fromBytes(stolen);
      expect(() => thief.decrypt(m, { now: T0 }), 'an earlier message opened with a later state').toThrow(CryptoError);
    }
    // no message key of those messages is in the state: it holds no skipped keys at all
    expect(RatchetSession.fromBytes(stolen).skippedKeyCount).toBe(0);
    // and no 32 bytes of it, taken as a message key or a chain key, open any of them
    for (const m of earlier) expect(opensWithStateBytes(stolen, m)).toBe(false);
  });

  it('control: the same key search opens the next message of a chain with the state from just before it', () => {
    const { a, b } = pair();
    open(a, b.encrypt(text('turn')));
    open(b, a.encrypt(text('new chain')));
    const before = b.toBytes();
    const m = a.encrypt(text('next on the same chain'));
    expect(opensWithStateBytes(before, m)).toBe(true);
    open(b, m);
    expect(opensWithStateBytes(b.toBytes(), m)).toBe(false);
  });

  it('an attacker with an old state reads the current chain, but nothing after the next DH step', () => {
    const { a, b } = pair();
    open(a, b.encrypt(text('turn')));
    const stolen = RatchetSession.fromBytes(b.toBytes());
    const sameChain = a.encrypt(text('still readable'));
    expect(open(stolen, sameChain)).toBe('still readable'); // the compromise is real
    open(b, sameChain);
    open(a, b.encrypt(text('b answers: new DH ratchet key')));
    const healed = a.encrypt(text('after healing'));
    expectCryptoError(() => stolen.decrypt(healed, { now: T0 }), 'SESSION_OUT_OF_SYNC');
    expect(opensWithStateBytes(stolen.toBytes(), healed)).toBe(false);
    expect(open(b, healed)).toBe('after healing');
  });
});

describe('prekey rotation', () => {
  it('a signed prekey rotated mid-conversation: sessions go on, late starts use the old one until its grace ends', () => {
    const alice = new TestDevice();
    const carol = new TestDevice();
    const bob = new TestDevice(0);
    const a = RatchetSession.start(alice.identity, bob.bundle());
    const late = RatchetSession.start(carol.identity, bob.bundle()).encrypt(text('late start'));
    const { session: b } = bob.accept(a.encrypt(text('hi')));

    const rotatedAt = T0 + 7 * DAY;
    expect(planSignedPrekeys([...bob.signedPrekeys.values()], rotatedAt).rotate).toBe(true);
    const spk2 = bob.rotate(rotatedAt);
    expect(bob.bundle().signedPrekey.id).toBe(spk2.id);
    for (let i = 0; i < 3; i++) {
      expect(open(a, b.encrypt(text(`b${i}`)))).toBe(`b${i}`);
      expect(open(b, a.encrypt(text(`a${i}`)))).toBe(`a${i}`);
    }
    const dave = new TestDevice();
    const d = RatchetSession.start(dave.identity, bob.bundle());
    expect(decodeSessionMessage(d.encrypt(text('x'))).prekey?.signedPrekeyId).toBe(spk2.id);
    expect(str(bob.accept(d.encrypt(text('new key'))).plaintext)).toBe('new key');

    const plan = planSignedPrekeys([...bob.signedPrekeys.values()], rotatedAt + 29 * DAY);
    expect(plan.keep.map((k) => k.id)).toEqual([2, 1]);
    expect(str(bob.accept(late, rotatedAt + 29 * DAY).plaintext)).toBe('late start');
    const after = planSignedPrekeys([...bob.signedPrekeys.values()], rotatedAt + 30 * DAY);
    expect(after.discard.map((k) => k.id)).toEqual([1]);
    for (const k of after.discard) bob.signedPrekeys.delete(k.id);
    expectCryptoError(() => bob.accept(late), 'PREKEY_UNKNOWN');
    // the old session is unaffected by the discarded prekey
    expect(open(a, b.encrypt(text('still fine')))).toBe('still fine');
  });
});

describe('restored state', () => {
  it('an old state restored after DH steps fails with SESSION_OUT_OF_SYNC; a new session recovers', () => {
    const { alice, bob, a, b } = pair();
    open(a, b.encrypt(text('1')));
    const backup = b.toBytes();
    open(b, a.encrypt(text('2')));
    open(a, b.encrypt(text('3')));
    open(b, a.encrypt(text('4')));
    const restored = RatchetSession.fromBytes(backup);
    const next = a.encrypt(text('5'));
    expectCryptoError(() => restored.decrypt(next, { now: T0 }), 'SESSION_OUT_OF_SYNC');
    expect(hex(restored.toBytes())).toBe(hex(backup)); // a failure changes nothing
    // what the client does: start a new session with the peer
    const fresh = RatchetSession.start(bob.identity, alice.bundle());
    const { session: a2, plaintext } = alice.accept(fresh.encrypt(text('new session')));
    expect(str(plaintext)).toBe('new session');
    expect(open(fresh, a2.encrypt(text('ok')))).toBe('ok');
  });
});

describe('hostile input', () => {
  it('every single-bit flip of a message is refused and leaves the session able to open the real one', () => {
    const { a, b } = pair();
    open(a, b.encrypt(text('turn')));
    const inChain = a.encrypt(text('tamper with me'));
    const before = hex(b.toBytes());
    let refused = 0;
    for (const [, flipped] of bitFlips(inChain)) {
      expect(() => b.decrypt(flipped, { now: T0 })).toThrow(CryptoError);
      refused++;
    }
    expect(refused).toBe(inChain.length * 8);
    expect(hex(b.toBytes())).toBe(before);
    expect(open(b, inChain)).toBe('tamper with me');

    // the first message of a new chain (a DH ratchet step): header flips
    const newChain = b.encrypt(text('new chain'));
    const stateA = hex(a.toBytes());
    for (const [bit, flipped] of bitFlips(newChain)) {
      if (bit >= (2 + 40) * 8) break;
      expect(() => a.decrypt(flipped, { now: T0 })).toThrow(CryptoError);
    }
    expect(hex(a.toBytes())).toBe(stateA);
    expect(open(a, newChain)).toBe('new chain');
  });

  it('truncated, extended and garbage messages are BOX_OPEN_FAILED', () => {
    const { a, b } = pair();
    const m = a.encrypt(text('x'));
    for (let len = 0; len < m.length; len += 7) expectCryptoError(() => b.decrypt(m.subarray(0, len), { now: T0 }), 'BOX_OPEN_FAILED');
    expectCryptoError(() => b.decrypt(Uint8Array.from([...m, 0]), { now: T0 }), 'BOX_OPEN_FAILED');
    expectCryptoError(() => b.decrypt(nacl.randomBytes(200), { now: T0 }), 'BOX_OPEN_FAILED');
    expectCryptoError(() => b.decrypt('x' as never, { now: T0 }), 'BOX_OPEN_FAILED');
    expectCryptoError(() => b.decrypt(m, { now: -1 }), 'INVALID_ARGUMENT');
    expect(open(b, m)).toBe('x');
  });
});

describe('state encoding', () => {
  it('round-trips at every step: a session reloaded from bytes continues exactly', () => {
    let { a, b } = pair();
    const reload = (s: RatchetSession): RatchetSession => {
      const bytes = s.toBytes();
      const copy = RatchetSession.fromBytes(bytes);
      expect(hex(copy.toBytes())).toBe(hex(bytes));
      return copy;
    };
    const lateOne = b.encrypt(text('late'));
    for (let i = 0; i < 10; i++) {
      b = reload(b);
      a = reload(a);
      const [from, to] = i % 3 === 0 ? [a, b] : [b, a];
      expect(open(to, from.encrypt(text(`m${i}`)))).toBe(`m${i}`);
    }
    a = reload(a);
    expect(a.skippedKeyCount).toBe(1);
    expect(open(a, lateOne)).toBe('late');
  });

  it('state bytes per contact stay small', () => {
    const { a, b } = pair();
    expect(a.toBytes().length).toBeLessThan(560); // carries the X3DH header until the reply
    open(a, b.encrypt(text('x')));
    for (let i = 0; i < 40; i++) open(i % 2 ? a : b, (i % 2 ? b : a).encrypt(text('y')));
    expect(a.toBytes().length).toBeLessThan(520);
    expect(b.toBytes().length).toBeLessThan(520);
  });

  it('refuses corrupt or truncated state (SESSION_STATE_INVALID)', () => {
    const { a } = pair();
    const bytes = a.toBytes();
    for (let len = 0; len < bytes.length; len += 5)
      expectCryptoError(() => RatchetSession.fromBytes(bytes.subarray(0, len)), 'SESSION_STATE_INVALID');
    expectCryptoError(() => RatchetSession.fromBytes(Uint8Array.from([...bytes, 0])), 'SESSION_STATE_INVALID');
    const wrongVersion = Uint8Array.from(bytes);
    wrongVersion[0] = 2;
    expectCryptoError(() => RatchetSession.fromBytes(wrongVersion), 'SESSION_STATE_INVALID');
    const badFlags = Uint8Array.from(bytes);
    badFlags[1] = 0xff;
    expectCryptoError(() => RatchetSession.fromBytes(badFlags), 'SESSION_STATE_INVALID');
    expectCryptoError(() => RatchetSession.fromBytes(null as never), 'SESSION_STATE_INVALID');
  });
});

describe('decodeSessionMessage', () => {
  it('reads the header fields', () => {
    const { alice, bob, a, b } = pair();
    const first = RatchetSession.start(alice.identity, bob.bundle()).encrypt(text('x'));
    const m = decodeSessionMessage(first);
    expect(hex(m.prekey!.identity.signKey)).toBe(hex(alice.identity.signPublicKey));
    expect(m.prekey!.signedPrekeyId).toBe(1);
    expect([m.previousChainLength, m.messageNumber]).toEqual([0, 0]);
    b.encrypt(text('1'));
    const second = decodeSessionMessage(b.encrypt(text('2')));
    expect(second.prekey).toBeUndefined();
    expect([second.previousChainLength, second.messageNumber]).toEqual([0, 1]);
    expect(second.ciphertext.length).toBe(1 + 16);
    open(a, b.encrypt(text('x')));
  });
});
