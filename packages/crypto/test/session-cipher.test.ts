import { createCipheriv } from 'node:crypto';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import sodium from 'libsodium-wrappers';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { RECORD_OVERHEAD, SessionCipher, hkdf } from '../src/index.js';
import { recordEnginesReady, SMALL_RECORD_BYTES } from '../src/session-cipher.js';
import type { SodiumModule } from '../src/sodium-aead.js';
import vectors from './vectors/record.json';
import { bitFlips, bytes, expectCryptoError, hex, unhex } from './helpers.js';

function pair(options: { rekeyAfterRecords?: number; rekeyAfterBytes?: number } = {}): { a: SessionCipher; b: SessionCipher } {
  const k1 = nacl.randomBytes(32);
  const k2 = nacl.randomBytes(32);
  return {
    a: new SessionCipher({ sendKey: k1, receiveKey: k2, ...options }),
    b: new SessionCipher({ sendKey: k2, receiveKey: k1, ...options }),
  };
}

// Small records go through libsodium once it has loaded, large ones through node:crypto: every
// test below runs with both engines in place.
beforeAll(() => recordEnginesReady);

/** A record built independently from raw node:crypto (the reference for both engines). */
function referenceRecord(key: Uint8Array, timestampMs: number, epoch: number, counter: number, plaintext: Uint8Array): Buffer {
  const header = Buffer.alloc(21);
  header[0] = 0xa1;
  header.writeBigUInt64BE(BigInt(timestampMs), 1);
  header.writeUInt32BE(epoch, 9);
  header.writeBigUInt64BE(BigInt(counter), 13);
  const cipher = createCipheriv('chacha20-poly1305', key, header.subarray(9), { authTagLength: 16 });
  cipher.setAAD(header, { plaintextLength: plaintext.length });
  return Buffer.concat([header, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Every single-bit flip of `record` is refused by a receiver keyed with `key`. */
function expectEveryBitFlipRefused(key: Uint8Array, record: Uint8Array): void {
  let refused = 0;
  for (const [, flipped] of bitFlips(record)) {
    // A fresh receiver per flip: the first failure kills a cipher.
    const receiver = new SessionCipher({ sendKey: new Uint8Array(32), receiveKey: key });
    expectCryptoError(() => receiver.open(flipped), 'RECORD_REJECTED');
    refused++;
  }
  expect(refused).toBe(record.length * 8);
}

describe('SessionCipher engines (libsodium for small records, node:crypto for large ones)', () => {
  const sizes = [0, 1, 64, SMALL_RECORD_BYTES - 1, SMALL_RECORD_BYTES, SMALL_RECORD_BYTES + 1, 4096, 70_000];

  it('seal the same bytes as raw node:crypto on both sides of the size threshold, and open each other', () => {
    const key = nacl.randomBytes(32);
    const sender = new SessionCipher({ sendKey: key, receiveKey: new Uint8Array(32), now: () => 1_700_000_000_123 });
    const receiver = new SessionCipher({ sendKey: new Uint8Array(32), receiveKey: key });
    sizes.forEach((size, counter) => {
      const plaintext = nacl.randomBytes(size);
      const record = Buffer.from(sender.seal(plaintext));
      expect(record.equals(referenceRecord(key, 1_700_000_000_123, 0, counter, plaintext))).toBe(true);
      expect(
        Buffer.from(receiver.open(referenceRecord(key, 1_700_000_000_123, 0, counter, plaintext))).equals(Buffer.from(plaintext)),
      ).toBe(true);
    });
  });

  it('uses libsodium up to the threshold and node:crypto above it', () => {
    const module = (sodium as unknown as { libsodium: SodiumModule }).libsodium;
    const seal = vi.spyOn(module, '_crypto_aead_chacha20poly1305_ietf_encrypt');
    const open = vi.spyOn(module, '_crypto_aead_chacha20poly1305_ietf_decrypt');
    try {
      const { a, b } = pair();
      b.open(a.seal(nacl.randomBytes(SMALL_RECORD_BYTES)));
      expect([seal.mock.calls.length, open.mock.calls.length]).toEqual([1, 1]);
      b.open(a.seal(nacl.randomBytes(SMALL_RECORD_BYTES + 1)));
      expect([seal.mock.calls.length, open.mock.calls.length]).toEqual([1, 1]);
    } finally {
      seal.mockRestore();
      open.mockRestore();
    }
  });

  it('refuses every single-bit flip of a record just past the threshold (node:crypto opens it)', () => {
    const k = nacl.randomBytes(32);
    const plaintext = nacl.randomBytes(SMALL_RECORD_BYTES + 1);
    expectEveryBitFlipRefused(k, new SessionCipher({ sendKey: k, receiveKey: new Uint8Array(32) }).seal(plaintext));
  });
});

describe('SessionCipher known answers', () => {
  it('matches the committed records', () => {
    const c = new SessionCipher({
      sendKey: unhex(vectors.sendKey),
      receiveKey: new Uint8Array(32),
      rekeyAfterRecords: 2,
      now: () => vectors.timestampMs,
    });
    for (const r of vectors.records) expect(hex(c.seal(unhex(r.plaintext)))).toBe(r.record);
    const receiver = new SessionCipher({ sendKey: new Uint8Array(32), receiveKey: unhex(vectors.sendKey), rekeyAfterRecords: 2 });
    for (const r of vectors.records) expect(hex(receiver.open(unhex(r.record)))).toBe(r.plaintext);
    expect(receiver.lastRecordTimestamp).toBe(vectors.timestampMs);
  });

  it('the committed records equal an independent construction from raw node:crypto', () => {
    let key = unhex(vectors.sendKey);
    vectors.records.forEach((r, counter) => {
      const epoch = counter >= 2 ? 1 : 0;
      if (counter === 2) key = hkdf(key, new Uint8Array(0), 'hush rekey', 32);
      // After a rekey the counter carries on (the nonce is epoch || counter).
      expect(r.record).toBe(hex(referenceRecord(key, vectors.timestampMs, epoch, counter, unhex(r.plaintext))));
    });
  });
});

describe('SessionCipher', () => {
  it('round-trips both ways, sizes up to 1 MiB', () => {
    const { a, b } = pair();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.boolean(), (size, aToB) => {
        const plaintext = nacl.randomBytes(size);
        const [from, to] = aToB ? [a, b] : [b, a];
        const record = from.seal(plaintext);
        expect(record.length).toBe(size + RECORD_OVERHEAD);
        expect(Buffer.from(to.open(record)).equals(Buffer.from(plaintext))).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('refuses every single-bit flip of a record', () => {
    const k = nacl.randomBytes(32);
    const record = new SessionCipher({ sendKey: k, receiveKey: new Uint8Array(32) }).seal(bytes('hello world'));
    expect(hex(new SessionCipher({ sendKey: new Uint8Array(32), receiveKey: k }).open(record))).toBe(hex(bytes('hello world')));
    expectEveryBitFlipRefused(k, record);
  });

  it('refuses replayed, reordered and dropped records', () => {
    const replay = pair();
    const r1 = replay.a.seal(bytes('1'));
    replay.b.open(r1);
    expectCryptoError(() => replay.b.open(r1), 'RECORD_REJECTED');

    const reorder = pair();
    const [x1, x2] = [reorder.a.seal(bytes('1')), reorder.a.seal(bytes('2'))];
    expectCryptoError(() => reorder.b.open(x2), 'RECORD_REJECTED');
    void x1;

    const drop = pair();
    const [y1, y2, y3] = [drop.a.seal(bytes('1')), drop.a.seal(bytes('2')), drop.a.seal(bytes('3'))];
    drop.b.open(y1);
    void y2;
    expectCryptoError(() => drop.b.open(y3), 'RECORD_REJECTED');
  });

  it('refuses a record reflected back to its sender', () => {
    const { a } = pair();
    expectCryptoError(() => a.open(a.seal(bytes('echo'))), 'RECORD_REJECTED');
  });

  it('is dead after a failure: even the right next record is refused', () => {
    const { a, b } = pair();
    const good = a.seal(bytes('ok'));
    const bad = Uint8Array.from(good);
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 1;
    expectCryptoError(() => b.open(bad), 'RECORD_REJECTED');
    expect(b.failed).toBe(true);
    expectCryptoError(() => b.open(good), 'RECORD_REJECTED');
  });

  it('refuses short, empty and wrong-version input', () => {
    for (const input of [new Uint8Array(0), new Uint8Array(RECORD_OVERHEAD - 1), new Uint8Array(100)]) {
      expectCryptoError(() => pair().b.open(input), 'RECORD_REJECTED');
    }
  });

  it('rekeys after N records on both sides, across the boundary, in both directions', () => {
    const { a, b } = pair({ rekeyAfterRecords: 3 });
    for (let i = 0; i < 10; i++) {
      expect(hex(b.open(a.seal(bytes(`a${i}`))))).toBe(hex(bytes(`a${i}`)));
      expect(hex(a.open(b.seal(bytes(`b${i}`))))).toBe(hex(bytes(`b${i}`)));
    }
    expect(a.epochs).toEqual({ send: 3, receive: 3 });
    expect(b.epochs).toEqual({ send: 3, receive: 3 });
  });

  it('rekeys after B bytes; a receiver that did not rekey cannot read the next epoch', () => {
    const { a, b } = pair({ rekeyAfterBytes: 100 });
    const r1 = a.seal(new Uint8Array(60));
    const r2 = a.seal(new Uint8Array(60)); // 120 ≥ 100: rekey after this one
    const r3 = a.seal(new Uint8Array(10));
    expect(a.epochs.send).toBe(1);
    b.open(r1);
    b.open(r2);
    expect(b.epochs.receive).toBe(1);
    expect(b.open(r3).length).toBe(10);

    // Same keys, but a receiver with a different limit stays in epoch 0 and refuses r3.
    const k = nacl.randomBytes(32);
    const sender = new SessionCipher({ sendKey: k, receiveKey: k, rekeyAfterRecords: 1 });
    const receiver = new SessionCipher({ sendKey: k, receiveKey: k, rekeyAfterRecords: 5 });
    receiver.open(sender.seal(bytes('1')));
    expectCryptoError(() => receiver.open(sender.seal(bytes('2'))), 'RECORD_REJECTED');
  });

  it('refuses bad keys and limits', () => {
    expectCryptoError(() => new SessionCipher({ sendKey: new Uint8Array(16), receiveKey: new Uint8Array(32) }), 'BAD_KEY');
    expectCryptoError(
      () => new SessionCipher({ sendKey: new Uint8Array(32), receiveKey: new Uint8Array(32), rekeyAfterRecords: 0 }),
      'INVALID_ARGUMENT',
    );
  });

  it('keeps its keys in storage of its own, rekeyed in place and zeroed by destroy()', () => {
    const k1 = nacl.randomBytes(32);
    const a = new SessionCipher({ sendKey: k1, receiveKey: nacl.randomBytes(32), rekeyAfterRecords: 2 });
    const keys = a as unknown as { send: { key: Buffer }; receive: { key: Buffer } };
    const send = keys.send.key;
    // Not a slice of Node's shared 8 KiB pool, which a long-lived key would keep alive whole.
    expect(send.buffer.byteLength).toBeLessThan(128);
    expect(keys.receive.key.buffer).toBe(send.buffer);
    expect(hex(send)).toBe(hex(k1));
    a.seal(bytes('1'));
    a.seal(bytes('2')); // the limit: rekey
    expect(keys.send.key).toBe(send);
    expect(hex(send)).not.toBe(hex(k1));
    a.destroy();
    expect([...send, ...keys.receive.key].every((x) => x === 0)).toBe(true);
  });

  it('destroy() wipes keys: no more sealing or opening', () => {
    const { a, b } = pair();
    const r = a.seal(bytes('x'));
    a.destroy();
    b.destroy();
    expectCryptoError(() => a.seal(bytes('y')), 'RECORD_REJECTED');
    expectCryptoError(() => b.open(r), 'RECORD_REJECTED');
  });
});

describe('SessionCipher.sealWithHeadroom', () => {
  it('leaves spare bytes in front of the same record that seal() would make, and advances the nonce', () => {
    const { a, b } = pair();
    const plaintext = bytes('x'.repeat(100));
    const framed = a.sealWithHeadroom(plaintext, 4);
    expect(framed.length).toBe(4 + RECORD_OVERHEAD + 100);
    expect(hex(b.open(framed.subarray(4)))).toBe(hex(plaintext));
    // The next record (plain seal) follows in sequence.
    expect(hex(b.open(a.seal(plaintext)))).toBe(hex(plaintext));
    expectCryptoError(() => a.sealWithHeadroom(plaintext, -1), 'INVALID_ARGUMENT');
  });

  it("seals into the leading bytes of a caller's buffer when it is large enough, byte for byte as a new one", () => {
    const k1 = nacl.randomBytes(32);
    const k2 = nacl.randomBytes(32);
    const sender = () => new SessionCipher({ sendKey: k1, receiveKey: k2, now: () => 1_000 });
    const a = sender();
    const twin = sender(); // same keys and clock: the same records in the same order
    const b = new SessionCipher({ sendKey: k2, receiveKey: k1 });
    for (const size of [0, 100, 3000, 9000]) {
      const plaintext = bytes('p'.repeat(size));
      const into = new Uint8Array(4 + RECORD_OVERHEAD + 9000 + 10).fill(0xee);
      const framed = a.sealWithHeadroom(plaintext, 4, into);
      expect(framed.buffer).toBe(into.buffer);
      expect(framed.byteOffset).toBe(into.byteOffset);
      expect(framed.length).toBe(4 + RECORD_OVERHEAD + size);
      expect(hex(framed.subarray(4))).toBe(hex(twin.sealWithHeadroom(plaintext, 4).subarray(4)));
      expect(into[framed.length]).toBe(0xee); // nothing written past the record
      expect(hex(b.open(framed.subarray(4)))).toBe(hex(plaintext));
    }
    // Too small: a new buffer, the caller's untouched.
    const small = new Uint8Array(16).fill(0xee);
    const framed = a.sealWithHeadroom(bytes('q'.repeat(50)), 4, small);
    expect(framed.buffer).not.toBe(small.buffer);
    expect([...small].every((x) => x === 0xee)).toBe(true);
    expect(hex(b.open(framed.subarray(4)))).toBe(hex(bytes('q'.repeat(50))));
    // The output may not overlap the plaintext.
    const shared = new Uint8Array(4096);
    expectCryptoError(() => a.sealWithHeadroom(shared.subarray(2000, 2100), 4, shared.subarray(1900)), 'INVALID_ARGUMENT');
  });
});
