import { hkdfSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  DeviceIdentity,
  SequenceTracker,
  decodeSealedDirect,
  deviceId,
  encodeSealedDirect,
  openDirect,
  sealDirect,
  type DirectInner,
  type SealedDirect,
} from '../src/index.js';
import { bitFlips, expectCryptoError } from './helpers.js';

const alice = DeviceIdentity.generate();
const alicePhone = DeviceIdentity.generate();
const bobLaptop = DeviceIdentity.generate();
const bobPhone = DeviceIdentity.generate();
const mallory = DeviceIdentity.generate();
const inner: DirectInner = { from: 'alice', to: 'bob', id: 'm-1', seq: 1, sentAt: 1_700_000_000_000, body: 'hi Bob ✓ 🎉' };

function seal(): SealedDirect {
  return sealDirect(alice, [bobLaptop.bundle(), bobPhone.bundle(), alicePhone.bundle()], inner);
}

describe('sealDirect / openDirect', () => {
  it('every recipient device opens the same inner message', () => {
    const sealed = seal();
    expect(sealed.keys.map((k) => k.device)).toEqual([bobLaptop.id(), bobPhone.id(), alicePhone.id()]);
    for (const me of [bobLaptop, bobPhone, alicePhone]) expect(openDirect(me, sealed, alice.bundle())).toEqual(inner);
  });

  it('round-trips through the compact encoding', () => {
    const bytes = encodeSealedDirect(seal());
    expect(openDirect(bobPhone, decodeSealedDirect(bytes), alice.bundle())).toEqual(inner);
  });

  it('a device that is not a recipient cannot open it', () => {
    expectCryptoError(() => openDirect(mallory, seal(), alice.bundle()), 'BOX_OPEN_FAILED');
  });

  it('refuses a wrong or mismatched sender bundle', () => {
    expectCryptoError(() => openDirect(bobLaptop, seal(), mallory.bundle()), 'BOX_OPEN_FAILED');
    expectCryptoError(() => openDirect(bobLaptop, seal(), { ...alice.bundle(), signature: new Uint8Array(64) }), 'BAD_BUNDLE');
  });

  it('refuses every single-bit flip of the encoded envelope', () => {
    const sealed = sealDirect(alice, [bobLaptop.bundle()], { ...inner, body: 'x' });
    const bytes = encodeSealedDirect(sealed);
    let refused = 0;
    for (const [, flipped] of bitFlips(bytes)) {
      let thrown: unknown;
      try {
        openDirect(bobLaptop, decodeSealedDirect(flipped), alice.bundle());
      } catch (err) {
        thrown = err;
      }
      expect((thrown as { code?: string } | undefined)?.code).toBe('BOX_OPEN_FAILED');
      refused++;
    }
    expect(refused).toBe(bytes.length * 8);
  });

  it('a recipient cannot forge a message to another device by reusing its key box', () => {
    // Bob's laptop learns the message key, writes a new ciphertext under it and
    // forwards the phone's original key box: the binding hash must catch it.
    const sealed = seal();
    const forgedInner = new TextEncoder().encode('forged');
    const keyBox = sealed.keys.find((k) => k.device === bobLaptop.id());
    expect(keyBox).toBeDefined();
    // The laptop opens its own key box; doing it with plain nacl.box.open also
    // cross-checks the native X25519 + HSalsa20 path against tweetnacl.
    const boxSecret = laptopBoxSecret();
    const keyPlain = nacl.box.open(keyBox!.box, keyBox!.nonce, alice.boxPublicKey, boxSecret);
    expect(keyPlain).not.toBeNull();
    const forged = { ...sealed, ciphertext: nacl.secretbox(forgedInner, sealed.nonce, keyPlain!.subarray(0, 32)) };
    expectCryptoError(() => openDirect(bobPhone, forged, alice.bundle()), 'BOX_OPEN_FAILED');
  });

  it('refuses bad recipient bundles and bad inner fields', () => {
    expectCryptoError(() => sealDirect(alice, [{ ...bobLaptop.bundle(), boxKey: mallory.boxPublicKey }], inner), 'BAD_BUNDLE');
    expectCryptoError(() => sealDirect(alice, [], inner), 'INVALID_ARGUMENT');
    expectCryptoError(() => sealDirect(alice, [bobLaptop.bundle()], { ...inner, seq: -1 }), 'INVALID_ARGUMENT');
  });

  it('a key box made with plain nacl.box opens (native path = tweetnacl)', () => {
    const sealed = sealDirect(alice, [bobLaptop.bundle()], inner);
    const entry = sealed.keys[0]!;
    const keyPlain = nacl.box.open(entry.box, entry.nonce, alice.boxPublicKey, laptopBoxSecret())!;
    const rebox = nacl.box(keyPlain, entry.nonce, bobLaptop.boxPublicKey, aliceBoxSecret());
    expect(Buffer.from(rebox).equals(Buffer.from(entry.box))).toBe(true);
  });

  it('deduplicates repeated recipient devices', () => {
    expect(sealDirect(alice, [bobLaptop.bundle(), bobLaptop.bundle()], inner).keys.map((k) => k.device)).toEqual([
      deviceId(bobLaptop.bundle()),
    ]);
  });

  it('decodeSealedDirect refuses truncation, trailing bytes and a wrong version', () => {
    const bytes = encodeSealedDirect(seal());
    for (const n of [0, 1, 50, bytes.length - 1]) expectCryptoError(() => decodeSealedDirect(bytes.subarray(0, n)), 'BOX_OPEN_FAILED');
    expectCryptoError(() => decodeSealedDirect(new Uint8Array([...bytes, 0])), 'BOX_OPEN_FAILED');
    const wrong = Uint8Array.from(bytes);
    wrong[0] = 0;
    expectCryptoError(() => decodeSealedDirect(wrong), 'BOX_OPEN_FAILED');
  });
});

// Box secret of bobLaptop, re-derived from its persisted seed as the device itself would.
function laptopBoxSecret(): Uint8Array {
  return new Uint8Array(hkdfSync('sha512', bobLaptop.secret, new Uint8Array(0), Buffer.from('hush device box key v1'), 32));
}

function aliceBoxSecret(): Uint8Array {
  return new Uint8Array(hkdfSync('sha512', alice.secret, new Uint8Array(0), Buffer.from('hush device box key v1'), 32));
}

describe('SequenceTracker', () => {
  it('accepts in-order messages per conversation', () => {
    const t = new SequenceTracker();
    expect(t.check('alice', 1)).toEqual({ status: 'ok' });
    expect(t.check('alice', 2)).toEqual({ status: 'ok' });
    expect(t.check('bob', 1)).toEqual({ status: 'ok' });
  });

  it('reports a replay', () => {
    const t = new SequenceTracker();
    t.check('c', 1);
    t.check('c', 2);
    expect(t.check('c', 2)).toEqual({ status: 'replay' });
    expect(t.check('c', 1)).toEqual({ status: 'replay' });
  });

  it('reports a gap (dropped messages), then a late arrival once, then its replay', () => {
    const t = new SequenceTracker();
    t.check('c', 1);
    expect(t.check('c', 5)).toEqual({ status: 'gap', missing: 3 });
    expect(t.check('c', 3)).toEqual({ status: 'ok' });
    expect(t.check('c', 3)).toEqual({ status: 'replay' });
    expect(t.check('c', 6)).toEqual({ status: 'ok' });
  });

  it('bounds the remembered gap', () => {
    const t = new SequenceTracker({ maxMissing: 2 });
    expect(t.check('c', 10)).toEqual({ status: 'gap', missing: 9 });
    expect(t.check('c', 9)).toEqual({ status: 'ok' });
    expect(t.check('c', 8)).toEqual({ status: 'ok' });
    expect(t.check('c', 7)).toEqual({ status: 'replay' }); // too old to tell: refused
    expect(new SequenceTracker().check('c', 2 ** 52)).toEqual({ status: 'gap', missing: 2 ** 52 - 1 });
  });

  it('exports and imports its state as plain JSON', () => {
    const t = new SequenceTracker();
    t.check('c', 1);
    t.check('c', 4);
    const json = JSON.parse(JSON.stringify(t.exportState()));
    expect(json).toEqual({ version: 1, conversations: { c: { last: 4, missing: [2, 3] } } });
    const restored = SequenceTracker.importState(json);
    expect(restored.check('c', 4)).toEqual({ status: 'replay' });
    expect(restored.check('c', 2)).toEqual({ status: 'ok' });
    expect(restored.check('c', 5)).toEqual({ status: 'ok' });
  });

  it('refuses malformed state and sequence numbers', () => {
    for (const bad of [
      null,
      {},
      { version: 2, conversations: {} },
      { version: 1, conversations: { c: { last: -1, missing: [] } } },
      { version: 1, conversations: { c: { last: 3, missing: [3] } } },
    ]) {
      expectCryptoError(() => SequenceTracker.importState(bad as never), 'INVALID_ARGUMENT');
    }
    const proto = JSON.parse('{"version":1,"conversations":{"__proto__":{"last":1,"missing":[]}}}');
    expect(SequenceTracker.importState(proto).check('__proto__', 1)).toEqual({ status: 'replay' });
    for (const seq of [0, -1, 1.5, Number.NaN]) expectCryptoError(() => new SequenceTracker().check('c', seq), 'INVALID_ARGUMENT');
  });
});
