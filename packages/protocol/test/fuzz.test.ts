import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decode,
  encodeFrame,
  FrameDecoder,
  MessageChannel,
  ProtocolError,
  PROTOCOL_ERROR_CODES,
  type RecordCipher,
  type Sender,
} from '../src/index.js';
import { plainCipher, prng, randomChunks } from './helpers.js';

// Hostile input must only ever produce a ProtocolError with a code from the table: no other
// exception, no hang, no prototype pollution. Inputs are seeded, so a failure reproduces.

const TOTAL_INPUTS = 100_000;
/** A single input taking this long would mean super-linear work somewhere. */
const MAX_MS_PER_INPUT = 5000;

interface Vectors {
  frames: { from: Sender; frame: string }[];
  records: { from: Sender; payload: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/frames.json', import.meta.url), 'utf8')) as Vectors;
const validPayloads = [
  ...vectors.frames.map((v) => ({ from: v.from, bytes: Buffer.from(v.frame, 'hex').subarray(4) })),
  ...vectors.records.map((v) => ({ from: v.from, bytes: Buffer.from(v.payload, 'hex') })),
];

const KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'type',
  'from',
  'id',
  're',
  'room',
  'text',
  'target',
  'user',
  'polluted',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'messages',
  'devices',
  'code',
  '',
  '\u0000',
  'x'.repeat(300),
];
const TYPES = [
  'ping',
  'send',
  'message',
  'history_page',
  'typing',
  'login',
  'error',
  'welcome',
  'dm',
  'client_hello',
  '__proto__',
  'constructor',
];

type Random = ReturnType<typeof prng>;

/** Random JSON text (built as text, so `__proto__` stays a plain key as JSON.parse would see it). */
function randomJson(r: Random, depth: number): string {
  const pick = r.int(depth > 4 ? 6 : 9);
  switch (pick) {
    case 0:
      return 'null';
    case 1:
      return r.int(2) ? 'true' : 'false';
    case 2:
      return [0, -1, 1.5, 1e308, -0, 2 ** 53, 8.64e15 + 1, r.int(1e6)][r.int(8)]!.toString();
    case 3:
      return JSON.stringify(['', 'lobby', 'alice', 'A'.repeat(43), 'x'.repeat(r.int(5000)), '\u202e', '\ud800'][r.int(7)]);
    case 4:
      return JSON.stringify(r.bytes(r.int(20)).toString('latin1'));
    case 5:
      return '"1"';
    case 6:
      return `[${Array.from({ length: r.int(4) }, () => randomJson(r, depth + 1)).join(',')}]`;
    default: {
      const entries = Array.from({ length: r.int(6) }, () => `${JSON.stringify(KEYS[r.int(KEYS.length)])}:${randomJson(r, depth + 1)}`);
      if (r.int(3) > 0) entries.unshift(`"type":${JSON.stringify(TYPES[r.int(TYPES.length)])}`);
      return `{${entries.join(',')}}`;
    }
  }
}

function deepNesting(r: Random): string {
  const n = 10_000 + r.int(1000);
  const [open, close] = r.int(2) ? ['[', ']'] : ['{"a":', '}'];
  const deep = `${open.repeat(n)}1${close.repeat(n)}`;
  switch (r.int(4)) {
    case 0:
      return deep;
    case 1:
      return `{"type":"ping","nonce":${deep}}`;
    case 2:
      return `{"type":"history_page","re":"1","target":{"room":"a"},"hasMore":true,"messages":[${deep}]}`;
    default:
      return `{"type":"send","id":"1","room":"lobby","text":"hi","__proto__":${deep}}`;
  }
}

function mutate(r: Random, input: Buffer): Buffer {
  const out = Buffer.from(input);
  switch (r.int(5)) {
    case 0: {
      // bit flips
      for (let i = r.int(8) + 1; i > 0 && out.length > 0; i--) {
        const at = r.int(out.length);
        out[at] = out[at]! ^ (1 << r.int(8));
      }
      return out;
    }
    case 1:
      return out.subarray(0, r.int(out.length + 1)); // truncation
    case 2: {
      // random bytes spliced in
      const at = r.int(out.length + 1);
      return Buffer.concat([out.subarray(0, at), r.bytes(1 + r.int(8)), out.subarray(at)]);
    }
    case 3: {
      // a byte deleted
      const at = r.int(Math.max(1, out.length));
      return Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    }
    default:
      return Buffer.concat([out, Buffer.from('\n'), out]); // duplicated line
  }
}

/** One input: either a payload (framed here) or raw wire bytes whose headers may lie. */
function nextInput(r: Random): { wire: Buffer; payload: Buffer | null } {
  const kind = r.int(100);
  let payload: Buffer;
  if (kind < 15) {
    const wire = r.bytes(r.int(64));
    return { wire, payload: null };
  }
  if (kind < 30) {
    // random or hostile length header followed by some bytes
    const header = Buffer.alloc(4);
    header.writeUInt32BE([0xffffffff, 0x7fffffff, 4097, 1024 * 1024 + 1, r.int(2 ** 32), r.int(64)][r.int(6)]!);
    return { wire: Buffer.concat([header, r.bytes(r.int(64))]), payload: null };
  }
  if (kind < 55) payload = mutate(r, validPayloads[r.int(validPayloads.length)]!.bytes);
  else if (kind < 99) payload = Buffer.from(Array.from({ length: 1 + r.int(3) }, () => randomJson(r, 0)).join('\n'));
  else payload = Buffer.from(deepNesting(r));
  if (r.int(10) === 0) payload = mutate(r, payload);
  return { wire: encodeFrame(payload), payload };
}

/** Accepts nothing but a ProtocolError whose code is in the table. */
function expectOnlyProtocolErrors(fn: () => void, describeInput: () => string): void {
  try {
    fn();
  } catch (error) {
    if (error instanceof ProtocolError && Object.hasOwn(PROTOCOL_ERROR_CODES, error.code)) return;
    throw new Error(`escaped: ${String(error)} for ${describeInput()}`, { cause: error });
  }
}

const failingCipher: RecordCipher = {
  seal: (p) => p,
  open: () => {
    throw new Error('tampered');
  },
};

function snapshot(proto: object): string {
  return JSON.stringify(
    Object.getOwnPropertyNames(proto)
      .sort()
      .map((name) => {
        const d = Object.getOwnPropertyDescriptor(proto, name)!;
        return [name, typeof d.value, typeof d.get, d.writable, d.enumerable, d.configurable];
      }),
  );
}

describe('fuzz', () => {
  let before: { object: string; array: string; fn: string };
  beforeAll(() => {
    before = { object: snapshot(Object.prototype), array: snapshot(Array.prototype), fn: snapshot(Function.prototype) };
  });
  afterAll(() => {
    // Checked again here so that pollution from any test in this file is caught.
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it(`${TOTAL_INPUTS} random and mutated frames and records yield only table ProtocolErrors, fast`, () => {
    const r = prng(0xf022);
    let slowest = 0;
    let accepted = 0;
    const codes = new Set<string>();
    for (let i = 0; i < TOTAL_INPUTS; i++) {
      const { wire, payload } = nextInput(r);
      const from: Sender = r.int(2) ? 'client' : 'server';
      const show = () => `input #${i} from ${from}: ${wire.subarray(0, 64).toString('hex')}`;
      const started = performance.now();

      // The frame decoder alone, in random chunks.
      expectOnlyProtocolErrors(() => {
        const decoder = new FrameDecoder({ maxFrameSize: 1024 * 1024 });
        for (const chunk of randomChunks(wire, r, 1 + r.int(wire.length + 1))) decoder.push(chunk);
      }, show);
      // The codec alone.
      if (payload)
        expectOnlyProtocolErrors(() => {
          decode(from, payload);
        }, show);
      // The channel: before the handshake, after it, or with a record layer that refuses.
      const channel = new MessageChannel({ peer: from });
      const mode = r.int(5);
      if (mode >= 1) channel.upgrade(mode === 4 ? failingCipher : plainCipher);
      try {
        for (const chunk of randomChunks(wire, r, 1 + r.int(wire.length + 1))) accepted += channel.receive(chunk).length;
      } catch (error) {
        if (!(error instanceof ProtocolError) || !Object.hasOwn(PROTOCOL_ERROR_CODES, error.code)) {
          throw new Error(`escaped: ${String(error)} for ${show()}`, { cause: error });
        }
        codes.add(error.code);
        // A failed channel stays failed with the same error (a plain check: expect() is slow in a hot loop).
        let again: unknown;
        try {
          channel.receive(Uint8Array.of(0));
        } catch (e) {
          again = e;
        }
        if (again !== error) throw new Error(`channel did not stay failed for ${show()}`);
      }
      slowest = Math.max(slowest, performance.now() - started);
    }
    expect(slowest).toBeLessThan(MAX_MS_PER_INPUT);
    // The corpus reaches every layer: each error the channel can raise, and some valid messages.
    expect([...codes].sort()).toEqual([
      'BAD_RECORD',
      'FRAME_TOO_LARGE',
      'HANDSHAKE_REQUIRED',
      'MALFORMED_JSON',
      'SCHEMA_VIOLATION',
      'UNKNOWN_TYPE',
    ]);
    expect(accepted).toBeGreaterThan(100);

    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(snapshot(Object.prototype)).toBe(before.object);
    expect(snapshot(Array.prototype)).toBe(before.array);
    expect(snapshot(Function.prototype)).toBe(before.fn);
  }, 60_000);

  it('arbitrary bytes never crash the channel (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), fc.constantFrom<Sender>('client', 'server'), (bytes, secure, from) => {
        const channel = new MessageChannel({ peer: from });
        if (secure) channel.upgrade(plainCipher);
        expectOnlyProtocolErrors(
          () => {
            channel.receive(bytes);
            channel.receive(encodeFrame(bytes));
          },
          () => Buffer.from(bytes).toString('hex'),
        );
      }),
      { numRuns: 3000, seed: 0xf00d },
    );
  });

  it('deeply nested JSON (10k levels) is refused quickly, whole and as a field', () => {
    const r = prng(7);
    for (let i = 0; i < 40; i++) {
      const text = deepNesting(r);
      const started = performance.now();
      const channel = new MessageChannel({ peer: i % 2 ? 'client' : 'server' });
      channel.upgrade(plainCipher);
      let error: unknown;
      try {
        channel.receive(encodeFrame(Buffer.from(text)));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ProtocolError);
      expect(performance.now() - started).toBeLessThan(MAX_MS_PER_INPUT);
    }
  });
});
