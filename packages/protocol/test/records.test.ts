// Packing messages into records: lines and pre-encoded blocks joined with '\n', split only between pieces.
import { describe, expect, it } from 'vitest';
import { groupPieces, sealPieces, type RecordPiece } from '../src/index.js';

/** What sealPieces hands to the cipher, copied out of its scratch buffer. */
const plaintexts = (pieces: readonly RecordPiece[], capacity: number): Buffer[] => sealPieces(pieces, capacity, (p) => Buffer.from(p));
const block = (...lines: string[]): Buffer => Buffer.from(lines.join('\n'), 'utf8');

describe('sealPieces', () => {
  it('joins lines and blocks with newlines and splits records only between pieces', () => {
    const b = block('{"b":1}', '{"b":"ü"}');
    expect(sealPieces([b], 1000, (p) => p)[0]).toBe(b); // a lone block is not copied
    expect(plaintexts(['{"a":"ö"}', b, '{"c":3}'], 1000).map(String)).toEqual(['{"a":"ö"}\n{"b":1}\n{"b":"ü"}\n{"c":3}']);
    expect(plaintexts(['x', 'y'], 1000).map(String)).toEqual(['x\ny']);
    expect(plaintexts([], 1000)).toEqual([]);
    const big = block('p'.repeat(30), 'q'.repeat(30)); // 61 bytes
    const out = plaintexts(['r'.repeat(20), big, 's'.repeat(20), 't'.repeat(50)], 100);
    expect(out.map(String)).toEqual([`${'r'.repeat(20)}\n${big}`, `${'s'.repeat(20)}\n${'t'.repeat(50)}`]);
    expect(out.every((p) => p.length <= 100)).toBe(true);
  });

  it('refuses a piece larger than a record before sealing anything in front of it', () => {
    const sealed: string[] = [];
    const seal = (p: Uint8Array) => sealed.push(Buffer.from(p).toString());
    expect(() => sealPieces(['u'.repeat(101)], 100, seal)).toThrow(/101 bytes/);
    expect(() => sealPieces([block('v'.repeat(101))], 100, seal)).toThrow(/101 bytes/);
    expect(() => sealPieces(['a'.repeat(60), 'b'.repeat(60), 'c'.repeat(101)], 100, seal)).toThrow(/101 bytes/);
    expect(sealed).toEqual(['a'.repeat(60)]);
  });

  it('measures UTF-8 bytes, not string length, once the cheap bound does not fit', () => {
    const out = plaintexts(['é'.repeat(30), 'é'.repeat(30)], 100); // 60 bytes each
    expect(out.map(String)).toEqual(['é'.repeat(30), 'é'.repeat(30)]);
  });
});

describe('groupPieces', () => {
  it("with oversize 'alone', a longer piece is a run of its own", () => {
    const runs: Array<[number, number]> = [];
    groupPieces(['a'.repeat(40), 'é'.repeat(30), 'b'.repeat(10), 'c'.repeat(200), 'd'], 100, (s, e) => runs.push([s, e]), 'alone');
    // 41 + 61 bytes (with their newlines) would pass 100: the é line starts the next run.
    expect(runs).toEqual([
      [0, 1],
      [1, 3],
      [3, 4],
      [4, 5],
    ]);
  });

  it('gives a bound at least the joined size of each run', () => {
    const pieces = ['x'.repeat(50), block('y'.repeat(20)), 'ü'.repeat(20), 'z'];
    groupPieces(pieces, 80, (s, e, bound) => {
      const joined = Buffer.concat(pieces.slice(s, e).map((p) => (typeof p === 'string' ? Buffer.from(p) : p))).length + (e - s - 1);
      expect(bound).toBeGreaterThanOrEqual(joined);
    });
  });
});
