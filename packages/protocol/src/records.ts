// How messages are packed into sealed records: lines of JSON joined with '\n', as many per record
// as its capacity allows, split only between lines. One rule for the client's channel and the
// server's outbound queues.
import { ProtocolError } from './errors.js';

/** Record content: one message's JSON text, or lines already UTF-8 encoded and joined with '\n'. */
export type RecordPiece = string | Uint8Array;

/**
 * Groups consecutive pieces into runs that each fit `capacity` bytes once joined with '\n', and
 * calls `run(start, end, bound)` for each in order (`bound` is at least the joined size). A piece
 * larger than `capacity` is FRAME_TOO_LARGE, thrown before the run in front of it is passed on,
 * unless `oversize` is 'alone' (it then makes a run of its own).
 */
export function groupPieces(
  pieces: readonly RecordPiece[],
  capacity: number,
  run: (start: number, end: number, bound: number) => void,
  oversize: 'throw' | 'alone' = 'throw',
): void {
  const bound = joinedBound(pieces);
  if (bound <= capacity) {
    if (pieces.length > 0) run(0, pieces.length, bound);
    return;
  }
  let start = 0;
  let size = 0;
  let runBound = 0;
  for (let i = 0; i < pieces.length; i++) {
    const piece = pieces[i]!;
    const length = typeof piece === 'string' ? Buffer.byteLength(piece, 'utf8') : piece.byteLength;
    if (length > capacity && oversize === 'throw') throw new ProtocolError('FRAME_TOO_LARGE', `message of ${length} bytes`);
    if (size + length + 1 > capacity && i > start) {
      run(start, i, runBound);
      start = i;
      size = 0;
      runBound = 0;
    }
    size += length + 1;
    runBound += upperBound(piece) + 1;
  }
  if (start < pieces.length) run(start, pieces.length, runBound);
}

/**
 * Seals pieces into as few records as `capacity` allows (see `groupPieces`) and returns what
 * `seal` makes of each plaintext. A lone piece is its own plaintext; several are joined in a
 * scratch buffer that the next record reuses, so `seal` must not keep the plaintext (a cipher
 * copies it into the record).
 */
export function sealPieces<T>(pieces: readonly RecordPiece[], capacity: number, seal: (plaintext: Uint8Array) => T): T[] {
  // The common case (a turn's few small messages) without a callback: this runs per recipient.
  const bound = joinedBound(pieces);
  if (bound <= capacity) return pieces.length === 0 ? [] : [seal(join(pieces, 0, pieces.length, bound))];
  const out: T[] = [];
  groupPieces(pieces, capacity, (start, end, bound) => {
    out.push(seal(join(pieces, start, end, bound)));
  });
  return out;
}

/**
 * At least the size of the pieces joined: a UTF-16 unit is at most 3 UTF-8 bytes, so when even
 * this fits, nothing needs measuring.
 */
function joinedBound(pieces: readonly RecordPiece[]): number {
  let bound = 0;
  for (let i = 0; i < pieces.length; i++) bound += upperBound(pieces[i]!) + 1;
  return bound;
}

function upperBound(piece: RecordPiece): number {
  return typeof piece === 'string' ? 3 * piece.length : piece.byteLength;
}

/** Where plaintexts are joined (grown on demand): one per process, so no allocation per record. */
let scratch = Buffer.allocUnsafe(64 * 1024);

/** pieces[start, end) joined with '\n' (in `scratch` when there are several); `bound` is at least the result's size. */
function join(pieces: readonly RecordPiece[], start: number, end: number, bound: number): Uint8Array {
  if (end - start === 1) {
    const only = pieces[start]!;
    return typeof only === 'string' ? Buffer.from(only, 'utf8') : only;
  }
  if (scratch.length < bound) scratch = Buffer.allocUnsafe(Math.max(bound, 2 * scratch.length));
  const out = scratch;
  let at = 0;
  for (let i = start; i < end; i++) {
    if (i > start) out[at++] = 0x0a;
    const piece = pieces[i]!;
    if (typeof piece === 'string') at += out.write(piece, at, 'utf8');
    else {
      out.set(piece, at);
      at += piece.byteLength;
    }
  }
  return out.subarray(0, at);
}
