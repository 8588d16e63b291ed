import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decode, encode, encodeFrame, MessageChannel, type ClientMessage, type Sender, type ServerMessage } from '../src/index.js';
import { plainCipher, prng, protocolErrorOf, randomChunks } from './helpers.js';

type Message = ClientMessage | ServerMessage;
interface Vectors {
  frames: { name: string; from: Sender; message: Message; frame: string }[];
  records: { name: string; from: Sender; messages: Message[]; payload: string }[];
  invalid: { name: string; from: Sender; frame: string; code: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('./vectors/frames.json', import.meta.url), 'utf8')) as Vectors;
const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** A channel that receives what `from` sends. */
const receiverOf = (from: Sender) => new MessageChannel({ peer: from });
const senderOf = (from: Sender) => new MessageChannel({ peer: from === 'client' ? 'server' : 'client' });

/** Feeds a stream of frames to a channel past the handshake (records sealed by `plainCipher`). */
function feed(from: Sender, chunks: Iterable<Uint8Array>): Message[] {
  const channel = receiverOf(from);
  channel.upgrade(plainCipher);
  const out: Message[] = [];
  for (const chunk of chunks) out.push(...channel.receive(chunk));
  expect(channel.bufferedBytes).toBe(0);
  return out;
}

function* bytewise(data: Uint8Array): Iterable<Uint8Array> {
  for (let i = 0; i < data.length; i++) yield data.subarray(i, i + 1);
}

describe('frame vectors', () => {
  it('has vectors for both directions', () => {
    expect(vectors.frames.filter((v) => v.from === 'client').length).toBeGreaterThanOrEqual(5);
    expect(vectors.frames.filter((v) => v.from === 'server').length).toBeGreaterThanOrEqual(5);
  });

  for (const v of vectors.frames) {
    it(`${v.from} ${v.name}: encodes to the exact bytes and decodes back`, () => {
      expect(encodeFrame(encode(v.message)).toString('hex')).toBe(v.frame);
      expect(
        senderOf(v.from)
          .frame([v.message])
          .map((f) => f.toString('hex')),
      ).toEqual([v.frame]);
      expect(hex(v.frame).readUInt32BE(0)).toBe(hex(v.frame).length - 4);
      expect(feed(v.from, [hex(v.frame)])).toEqual([v.message]);
      expect(receiverOf(v.from).receive(hex(v.frame))).toEqual([v.message]);
    });
  }

  for (const from of ['client', 'server'] as const) {
    const list = vectors.frames.filter((v) => v.from === from);
    const stream = Buffer.concat(list.map((v) => hex(v.frame)));
    const expected = list.map((v) => v.message);

    it(`${from} stream: replayed whole`, () => {
      expect(feed(from, [stream])).toEqual(expected);
    });

    it(`${from} stream: split one byte at a time`, () => {
      expect(feed(from, bytewise(stream))).toEqual(expected);
    });

    it(`${from} stream: random chunkings (seeded)`, () => {
      const random = prng(from === 'client' ? 0xc11e : 0x5e7e);
      for (let run = 0; run < 200; run++) {
        expect(feed(from, randomChunks(stream, random, 1 + random.int(300)))).toEqual(expected);
      }
    });
  }
});

describe('record payload vectors', () => {
  for (const v of vectors.records) {
    it(`${v.name}: exact payload bytes, decoded back, and carried in one sealed frame`, () => {
      expect(encode(v.messages).toString('hex')).toBe(v.payload);
      expect(decode(v.from, hex(v.payload))).toEqual(v.messages);

      const sender = senderOf(v.from);
      sender.upgrade(plainCipher);
      const frames = sender.frame(v.messages);
      expect(frames.map((f) => f.toString('hex'))).toEqual([encodeFrame(hex(v.payload)).toString('hex')]);

      const receiver = receiverOf(v.from);
      receiver.upgrade(plainCipher);
      const out = [...bytewise(frames[0]!)].flatMap((b) => receiver.receive(b));
      expect(out).toEqual(v.messages);
    });
  }
});

describe('invalid vectors', () => {
  for (const v of vectors.invalid) {
    it(`${v.name}: ${v.code}, whole or byte by byte`, () => {
      expect(protocolErrorOf(() => receiverOf(v.from).receive(hex(v.frame))).code).toBe(v.code);
      const channel = receiverOf(v.from);
      const err = protocolErrorOf(() => {
        for (const b of bytewise(hex(v.frame))) channel.receive(b);
      });
      expect(err.code).toBe(v.code);
    });
  }
});
