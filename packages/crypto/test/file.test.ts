import { createHash } from 'node:crypto';
import fc from 'fast-check';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { FileOpener, createFileSealer, type FileSealer } from '../src/index.js';
import { bitFlips, expectCryptoError, hex } from './helpers.js';

function sealAll(data: Uint8Array, chunkSize: number): { sealer: FileSealer; chunks: Uint8Array[] } {
  const sealer = createFileSealer();
  const chunks: Uint8Array[] = [];
  const count = Math.max(1, Math.ceil(data.length / chunkSize));
  for (let i = 0; i < count; i++) chunks.push(sealer.sealChunk(data.subarray(i * chunkSize, (i + 1) * chunkSize), i === count - 1));
  return { sealer, chunks };
}

describe('file chunks', () => {
  it('round-trips random files up to 1 MiB and checks the whole-file SHA-512', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1 << 20 }), fc.integer({ min: 1000, max: 200_000 }), (size, chunkSize) => {
        const data = nacl.randomBytes(size);
        const { sealer, chunks } = sealAll(data, chunkSize);
        expect(hex(sealer.digest())).toBe(createHash('sha512').update(data).digest('hex'));
        const opener = new FileOpener(sealer.key, sealer.noncePrefix);
        const out = Buffer.concat(chunks.map((c, i) => opener.openChunk(c, i)));
        expect(out.equals(Buffer.from(data))).toBe(true);
        expect(hex(opener.finish(sealer.digest()))).toBe(hex(sealer.digest()));
      }),
      { numRuns: 20 },
    );
  });

  it('round-trips tiny chunks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 1, max: 8 }), (data, chunkSize) => {
        const { sealer, chunks } = sealAll(data, chunkSize);
        const opener = new FileOpener(sealer.key, sealer.noncePrefix);
        expect(hex(Buffer.concat(chunks.map((c, i) => opener.openChunk(c, i))))).toBe(hex(data));
        opener.finish(sealer.digest());
      }),
      { numRuns: 50 },
    );
  });

  it('uses nonce = prefix | 7-byte counter | final flag (independent check with tweetnacl)', () => {
    const key = nacl.randomBytes(32);
    const prefix = nacl.randomBytes(16);
    const sealer = createFileSealer({ key, noncePrefix: prefix });
    sealer.sealChunk(new Uint8Array(1), false);
    const second = sealer.sealChunk(new Uint8Array([1, 2, 3]), true);
    const nonce = new Uint8Array([...prefix, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(hex(second)).toBe(hex(nacl.secretbox(new Uint8Array([1, 2, 3]), nonce, key)));
  });

  it('refuses reordered chunks', () => {
    const { sealer, chunks } = sealAll(nacl.randomBytes(300), 100);
    expectCryptoError(() => new FileOpener(sealer.key, sealer.noncePrefix).openChunk(chunks[1]!, 0), 'FILE_CORRUPT');
    const opener = new FileOpener(sealer.key, sealer.noncePrefix);
    expectCryptoError(() => opener.openChunk(chunks[1]!, 1), 'FILE_CORRUPT'); // skipped chunk 0
    expectCryptoError(() => opener.openChunk(chunks[0]!, 0), 'FILE_CORRUPT'); // dead after a failure
  });

  it('refuses truncation: finish() without the final chunk', () => {
    const { sealer, chunks } = sealAll(nacl.randomBytes(300), 100);
    const opener = new FileOpener(sealer.key, sealer.noncePrefix);
    opener.openChunk(chunks[0]!, 0);
    opener.openChunk(chunks[1]!, 1);
    expect(opener.complete).toBe(false);
    expectCryptoError(() => opener.finish(), 'FILE_CORRUPT');
  });

  it('refuses data after the final chunk', () => {
    const sealer = createFileSealer();
    const a = sealer.sealChunk(new Uint8Array(5), true);
    const opener = new FileOpener(sealer.key, sealer.noncePrefix);
    opener.openChunk(a, 0);
    expectCryptoError(() => opener.openChunk(a, 1), 'FILE_CORRUPT');
    expectCryptoError(() => sealer.sealChunk(new Uint8Array(1), false), 'INVALID_ARGUMENT');
  });

  it('refuses every single-bit flip of a chunk', () => {
    const sealer = createFileSealer();
    const chunk = sealer.sealChunk(nacl.randomBytes(20), true);
    let refused = 0;
    for (const [, flipped] of bitFlips(chunk)) {
      expectCryptoError(() => new FileOpener(sealer.key, sealer.noncePrefix).openChunk(flipped, 0), 'FILE_CORRUPT');
      refused++;
    }
    expect(refused).toBe(chunk.length * 8);
  });

  it('refuses a whole-file hash mismatch, a wrong key and a wrong prefix', () => {
    const { sealer, chunks } = sealAll(nacl.randomBytes(50), 20);
    const opener = new FileOpener(sealer.key, sealer.noncePrefix);
    chunks.forEach((c, i) => opener.openChunk(c, i));
    const wrong = sealer.digest();
    wrong[0] = (wrong[0] as number) ^ 1;
    expectCryptoError(() => opener.finish(wrong), 'FILE_CORRUPT');
    expectCryptoError(() => new FileOpener(nacl.randomBytes(32), sealer.noncePrefix).openChunk(chunks[0]!, 0), 'FILE_CORRUPT');
    expectCryptoError(() => new FileOpener(sealer.key, nacl.randomBytes(16)).openChunk(chunks[0]!, 0), 'FILE_CORRUPT');
    expectCryptoError(() => new FileOpener(new Uint8Array(31), sealer.noncePrefix), 'BAD_KEY');
  });

  it('digest() is only available after the final chunk', () => {
    const sealer = createFileSealer();
    sealer.sealChunk(new Uint8Array(3), false);
    expectCryptoError(() => sealer.digest(), 'INVALID_ARGUMENT');
  });

  it('seals and opens 10 MB in 64 KiB chunks', () => {
    const data = new Uint8Array(10_000_000);
    const { sealer, chunks } = sealAll(data, 64 * 1024);
    const opener = new FileOpener(sealer.key, sealer.noncePrefix);
    chunks.forEach((c, i) => opener.openChunk(c, i));
    expect(chunks).toHaveLength(Math.ceil(data.length / (64 * 1024)));
    expect(() => opener.finish(sealer.digest())).not.toThrow();
  });
});
