import { ProtocolError, PROTOCOL_ERROR_CODES, type RecordCipher } from '../src/index.js';

/** Small seeded PRNG (mulberry32): reproducible chunkings and fuzz inputs without fast-check overhead. */
export function prng(seed: number): { next(): number; int(maxExclusive: number): number; bytes(n: number): Buffer } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (maxExclusive: number): number => Math.floor(next() * maxExclusive);
  const bytes = (n: number): Buffer => {
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = int(256);
    return out;
  };
  return { next, int, bytes };
}

/** Splits `data` at the given cut points (sorted, deduplicated, inside the buffer). */
export function splitAt(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < data.length))].sort((x, y) => x - y);
  const parts: Uint8Array[] = [];
  let start = 0;
  for (const p of [...points, data.length]) {
    parts.push(data.subarray(start, p));
    start = p;
  }
  return parts;
}

/** Random chunking of `data` into pieces of 1..maxPiece bytes. */
export function randomChunks(data: Uint8Array, random: ReturnType<typeof prng>, maxPiece = 64): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let offset = 0;
  while (offset < data.length) {
    const n = 1 + random.int(maxPiece);
    parts.push(data.subarray(offset, offset + n));
    offset += n;
  }
  return parts;
}

/** The record layer reduced to nothing: lets tests reach the JSON layer after `upgrade`. */
export const plainCipher: RecordCipher = { seal: (p) => p, open: (r) => r };

/** Runs `fn` and returns the ProtocolError it throws; fails the test on anything else. */
export function protocolErrorOf(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError && error.code in PROTOCOL_ERROR_CODES) return error;
    throw new Error(`expected a ProtocolError, got ${String(error)}`, { cause: error });
  }
  throw new Error('expected a ProtocolError, nothing was thrown');
}

export const concat = (parts: Uint8Array[]): Buffer => Buffer.concat(parts);
