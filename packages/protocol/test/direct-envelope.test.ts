// The 0xD3 framing of a direct message's envelope: exact bytes, round trips, and every malformed shape refused.
import { describe, expect, it } from 'vitest';
import { encodeDirectEnvelope, MAX_ENVELOPE_DEVICES, parseDirectEnvelope, toBase64Url, type DirectEnvelope } from '../src/index.js';
import { prng } from './helpers.js';

const key = (fill: number) => new Uint8Array(32).fill(fill);
const sender = key(0xa1);
const entries = [
  { device: key(0xb2), message: new Uint8Array([1, 2, 3]) },
  { device: key(0xc3), message: new Uint8Array([4]) },
];
/** The same envelope as PROTOCOL.md's `dm_send` example. */
const VECTOR =
  '06GhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhoaGhArKysrKysrKysrKysrKysrKysrKysrKysrKysrKysrKyAAAAAwECA8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDw8PDAAAAAQQ';

function parsed(envelope: Uint8Array | string): DirectEnvelope {
  const result = parseDirectEnvelope(envelope);
  if (typeof result === 'string') throw new Error(result);
  return result;
}

describe('direct-message envelope', () => {
  it('encodes to the documented bytes and parses back, from bytes or base64url', () => {
    const bytes = encodeDirectEnvelope(sender, entries);
    expect(toBase64Url(bytes)).toBe(VECTOR);
    for (const form of [bytes, VECTOR]) {
      const envelope = parsed(form);
      expect(envelope.sender).toEqual(sender);
      expect([...envelope.entries]).toEqual(entries.map((e) => [toBase64Url(e.device), e.message]));
    }
  });

  it('holds no entry, or as many as its count byte allows, and no more', () => {
    expect(parsed(encodeDirectEnvelope(sender, [])).entries.size).toBe(0);
    const many = Array.from({ length: MAX_ENVELOPE_DEVICES }, (_, i) => ({ device: key(i), message: new Uint8Array(i % 3) }));
    expect(parsed(encodeDirectEnvelope(sender, many)).entries.size).toBe(MAX_ENVELOPE_DEVICES);
    expect(() => encodeDirectEnvelope(sender, [...many, entries[0]!])).toThrow(RangeError);
    expect(() => encodeDirectEnvelope(key(1).subarray(1), [])).toThrow(/32 bytes/);
  });

  it('reads a view of a larger buffer by its own bytes only', () => {
    const bytes = encodeDirectEnvelope(sender, entries);
    const padded = new Uint8Array(bytes.length + 8);
    padded.set(bytes, 4);
    expect(parsed(padded.subarray(4, 4 + bytes.length)).entries.get(toBase64Url(key(0xc3)))).toEqual(new Uint8Array([4]));
  });

  it.each([
    ['an empty envelope', () => new Uint8Array(0), /0xD3 header/],
    ['another header', (b: Uint8Array) => Uint8Array.of(0xd2, ...b.subarray(1)), /0xD3 header/],
    ['a head cut short', (b: Uint8Array) => b.subarray(0, 33), /0xD3 header/],
    ['an entry header cut short', (b: Uint8Array) => b.subarray(0, 34 + 20), /header cut short/],
    ['an entry cut short', (b: Uint8Array) => b.subarray(0, b.length - 1), /longer than the envelope/],
    ['a count larger than the entries', (b: Uint8Array) => Uint8Array.of(...b.subarray(0, 33), 3, ...b.subarray(34)), /cut short/],
    ['bytes after the last entry', (b: Uint8Array) => Uint8Array.of(...b, 0), /after the last/],
    ['one device twice', () => encodeDirectEnvelope(sender, [entries[0]!, entries[0]!]), /twice/],
  ])('refuses %s with a reason', (_name, mangle, reason) => {
    expect(parseDirectEnvelope(mangle(encodeDirectEnvelope(sender, entries)))).toMatch(reason);
  });

  it('never throws on random bytes, and what parses re-encodes to the same bytes', () => {
    const rng = prng(21);
    for (let i = 0; i < 2000; i++) {
      const bytes = rng.bytes(rng.int(140));
      if (i % 2 === 0 && bytes.length > 33) bytes[0] = 0xd3;
      const result = parseDirectEnvelope(bytes);
      if (typeof result === 'string') continue;
      const again = [...result.entries].map(([device, message]) => ({ device: Buffer.from(device, 'base64url'), message }));
      expect(Buffer.from(encodeDirectEnvelope(result.sender, again))).toEqual(bytes);
    }
  });
});
