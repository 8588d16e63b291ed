import { createHash, type Hash } from 'node:crypto';
import nacl from 'tweetnacl';
import { constantTimeEqual, isBytes, requireKey } from './bytes.js';
import { CryptoError } from './errors.js';

// Chunked file encryption (STREAM-like) with secretbox:
//   nonce(i) = 16-byte random prefix | 7-byte BE chunk index | final flag (0x00 / 0x01)
// The flag in the nonce makes truncation detectable: only the last chunk opens
// with flag 1. The key, prefix, name, size and SHA-512 travel in a sealed DM.
// The whole-file SHA-512 is a running native hash: tweetnacl has no
// incremental SHA-512 and files are too large to hash in one buffer.

export const FILE_KEY_LENGTH = 32;
export const FILE_NONCE_PREFIX_LENGTH = 16;
/** Bytes sealing adds to each chunk (the Poly1305 tag). */
export const FILE_CHUNK_OVERHEAD = nacl.secretbox.overheadLength;
const MAX_CHUNKS = 2 ** 53; // the 7-byte counter holds 2^56; a JS number is exact to 2^53

function chunkNonce(prefix: Uint8Array, index: number, final: boolean): Uint8Array {
  const nonce = new Uint8Array(nacl.secretbox.nonceLength);
  nonce.set(prefix);
  let n = index;
  for (let i = 22; i >= 16; i--) {
    nonce[i] = n % 256;
    n = Math.floor(n / 256);
  }
  nonce[23] = final ? 1 : 0;
  return nonce;
}

export interface FileSealerOptions {
  /** FOR TESTS only: fixed key (default random). */
  key?: Uint8Array;
  /** FOR TESTS only: fixed nonce prefix (default random). */
  noncePrefix?: Uint8Array;
}

export class FileSealer {
  /** Random 32-byte file key: send it to the recipient inside a sealed DM. */
  readonly key: Uint8Array;
  /** Random 16-byte nonce prefix: send it with the key. */
  readonly noncePrefix: Uint8Array;
  private index = 0;
  private finished = false;
  private readonly hash: Hash = createHash('sha512');
  private finalDigest: Uint8Array | undefined;

  constructor(options: FileSealerOptions = {}) {
    this.key = Uint8Array.from(options.key === undefined ? nacl.randomBytes(FILE_KEY_LENGTH) : requireKey(options.key, FILE_KEY_LENGTH));
    this.noncePrefix = Uint8Array.from(
      options.noncePrefix === undefined
        ? nacl.randomBytes(FILE_NONCE_PREFIX_LENGTH)
        : requireKey(options.noncePrefix, FILE_NONCE_PREFIX_LENGTH),
    );
  }

  /** Seals the next chunk; pass final = true for the last one (an empty final chunk is fine). */
  sealChunk(data: Uint8Array, final: boolean): Uint8Array {
    if (this.finished || this.index >= MAX_CHUNKS || !isBytes(data)) throw new CryptoError('INVALID_ARGUMENT');
    const sealed = nacl.secretbox(data, chunkNonce(this.noncePrefix, this.index, final), this.key);
    this.hash.update(data);
    this.index++;
    if (final) {
      this.finished = true;
      this.finalDigest = new Uint8Array(this.hash.digest());
    }
    return sealed;
  }

  /** Chunks sealed so far. */
  get chunkCount(): number {
    return this.index;
  }

  /** SHA-512 of the whole plaintext; only after the final chunk. */
  digest(): Uint8Array {
    if (this.finalDigest === undefined) throw new CryptoError('INVALID_ARGUMENT');
    return Uint8Array.from(this.finalDigest);
  }
}

/** New sealer with a random key and nonce prefix. */
export function createFileSealer(options: FileSealerOptions = {}): FileSealer {
  return new FileSealer(options);
}

export class FileOpener {
  private readonly key: Uint8Array;
  private readonly noncePrefix: Uint8Array;
  private next = 0;
  private sawFinal = false;
  private dead = false;
  private readonly hash: Hash = createHash('sha512');

  constructor(key: Uint8Array, noncePrefix: Uint8Array) {
    this.key = Uint8Array.from(requireKey(key, FILE_KEY_LENGTH));
    this.noncePrefix = Uint8Array.from(requireKey(noncePrefix, FILE_NONCE_PREFIX_LENGTH));
  }

  /**
   * Opens chunk `index`, which must be the next one in order. Any reordering,
   * data after the final chunk, or bit flip is FILE_CORRUPT and kills the opener.
   */
  openChunk(sealed: Uint8Array, index: number): Uint8Array {
    if (this.dead || this.sawFinal || index !== this.next || !isBytes(sealed)) return this.corrupt();
    let final = false;
    let data = nacl.secretbox.open(sealed, chunkNonce(this.noncePrefix, index, false), this.key);
    if (data === null) {
      data = nacl.secretbox.open(sealed, chunkNonce(this.noncePrefix, index, true), this.key);
      final = true;
    }
    if (data === null) return this.corrupt();
    this.hash.update(data);
    this.next++;
    this.sawFinal = final;
    return data;
  }

  /** True once the final chunk has been opened. */
  get complete(): boolean {
    return this.sawFinal;
  }

  /**
   * Ends the file: FILE_CORRUPT when the final chunk never came or the
   * whole-file SHA-512 differs from `expectedSha512`. Returns the digest.
   */
  finish(expectedSha512?: Uint8Array): Uint8Array {
    if (this.dead || !this.sawFinal) return this.corrupt();
    this.dead = true; // single use
    const digest = new Uint8Array(this.hash.digest());
    if (expectedSha512 !== undefined && !constantTimeEqual(digest, expectedSha512)) throw new CryptoError('FILE_CORRUPT');
    return digest;
  }

  private corrupt(): never {
    this.dead = true;
    throw new CryptoError('FILE_CORRUPT');
  }
}
