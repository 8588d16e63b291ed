import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decode,
  encode,
  encodeFrame,
  FrameDecoder,
  MessageChannel,
  validate,
  PROTOCOL_ERROR_CODE_LIST,
  type ClientMessage,
  type Sender,
  type ServerMessage,
} from '../src/index.js';
import { plainCipher, splitAt } from './helpers.js';

// Arbitraries for a representative set of messages. Text fields use whole-Unicode strings (lone
// surrogates included) with at most half the UTF-16 limit in code points, so they always fit.
const b64 = (n: number) => fc.uint8Array({ minLength: n, maxLength: n }).map((b) => Buffer.from(b).toString('base64url'));
const unicode = (minLength: number, maxLength: number) => fc.string({ unit: 'binary', minLength, maxLength });
const username = fc.stringMatching(/^[a-z0-9_-]{3,24}$/);
const room = fc.stringMatching(/^[a-z0-9_-]{1,32}$/);
const requestId = unicode(1, 32);
const msgId = fc.stringMatching(/^[0-9]{1,20}$/);
const ts = fc.oneof(fc.nat(), fc.bigInt({ min: 0n, max: 8_640_000_000_000_000n }).map(Number));
const target = fc.oneof(fc.record({ room }), fc.record({ user: username }));
const device = fc.record({ signKey: b64(32), boxKey: b64(32), signature: b64(64) });
const fileId = fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/);
const code = fc.constantFrom(...PROTOCOL_ERROR_CODE_LIST);
const clientKey = fc.stringMatching(/^[A-Za-z0-9_-]{8,64}$/);
const perSecond = fc.double({ min: 0.001, max: 1_000_000, noNaN: true });
const burst = fc.integer({ min: 1, max: 1_000_000 });
const limits = fc.record({
  messagesPerSecond: perSecond,
  messageBurst: burst,
  signalsPerSecond: perSecond,
  signalBurst: burst,
  maxTextLength: fc.integer({ min: 1, max: 4000 }),
});

const clientMessage: fc.Arbitrary<ClientMessage> = fc.oneof(
  fc.record({
    type: fc.constant('client_hello'),
    versions: fc.array(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 16 }),
    ephemeral: b64(32),
  }),
  fc.record({ type: fc.constant('login'), id: requestId, username: unicode(1, 32), password: unicode(1, 512), device }),
  fc.record(
    { type: fc.constant('send'), id: requestId, room, text: unicode(1, 2000), action: fc.boolean(), key: clientKey },
    { requiredKeys: ['type', 'id', 'room', 'text'] },
  ),
  fc.record(
    { type: fc.constant('send'), id: requestId, room, envelope: b64(120), key: clientKey },
    { requiredKeys: ['type', 'id', 'room', 'envelope'] },
  ),
  fc.record(
    {
      type: fc.constant('dm_send'),
      id: requestId,
      to: username,
      envelope: fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b).toString('base64url')),
      key: clientKey,
    },
    { requiredKeys: ['type', 'id', 'to', 'envelope'] },
  ),
  fc.record(
    { type: fc.constant('history'), id: requestId, target, before: msgId, after: msgId, limit: fc.integer({ min: 1, max: 500 }) },
    { requiredKeys: ['type', 'id', 'target', 'limit'] },
  ),
  fc.record({ type: fc.constant('typing'), target, active: fc.boolean() }),
  fc.record(
    {
      type: fc.constant('presence_set'),
      id: requestId,
      state: fc.constantFrom('online' as const, 'away' as const),
      status: unicode(0, 50),
    },
    { requiredKeys: ['type', 'id', 'state'] },
  ),
  fc.record({
    type: fc.constant('file_chunk'),
    id: requestId,
    fileId,
    index: fc.nat(),
    data: fc.uint8Array({ maxLength: 4096 }).map((b) => Buffer.from(b).toString('base64url')),
    final: fc.boolean(),
  }),
  fc.record(
    {
      type: fc.constant('ban'),
      id: requestId,
      user: username,
      address: fc.ipV4(),
      reason: unicode(0, 100),
      seconds: fc.integer({ min: 1, max: 3600 }),
    },
    { requiredKeys: ['type', 'id'] },
  ),
  fc.record({ type: fc.constant('ping'), nonce: unicode(0, 16) }, { requiredKeys: ['type'] }),
);

const roomMessage = fc.record({
  type: fc.constant('message' as const),
  room,
  msgId,
  ts,
  from: username,
  text: unicode(1, 2000),
  action: fc.boolean(),
});
const sealedRoomMessage = fc.record({
  type: fc.constant('message' as const),
  room,
  msgId,
  ts,
  from: username,
  text: fc.constant(''),
  action: fc.constant(false),
  envelope: b64(120),
});
const directMessage = fc.record({ type: fc.constant('dm' as const), msgId, ts, from: username, to: username, envelope: b64(80) });
const serverMessage: fc.Arbitrary<ServerMessage> = fc.oneof(
  roomMessage,
  sealedRoomMessage,
  directMessage,
  fc.record({ type: fc.constant('ack'), re: requestId, msgId, ts }),
  fc.record(
    { type: fc.constant('error'), re: requestId, code, message: unicode(0, 250), path: unicode(0, 100), retryAfterMs: fc.nat() },
    { requiredKeys: ['type', 'code', 'message'] },
  ),
  fc.record(
    {
      type: fc.constant('room_event'),
      room,
      event: fc.constantFrom('join' as const, 'part' as const, 'kick' as const, 'topic' as const, 'role' as const),
      user: username,
      by: username,
      topic: unicode(0, 150),
      role: fc.constantFrom('owner' as const, 'op' as const, 'member' as const),
      ts,
    },
    { requiredKeys: ['type', 'room', 'event', 'user', 'ts'] },
  ),
  fc.record({
    type: fc.constant('history_page'),
    re: requestId,
    target,
    messages: fc.array(fc.oneof(roomMessage, directMessage), { maxLength: 5 }),
    hasMore: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('welcome'),
    re: requestId,
    user: username,
    role: fc.constantFrom('admin' as const, 'user' as const),
    rooms: fc.array(
      fc.record(
        {
          room,
          topic: unicode(0, 150),
          kind: fc.constantFrom('e2e' as const, 'open' as const),
          members: fc.nat(),
          joined: fc.boolean(),
          role: fc.constantFrom('owner' as const, 'member' as const),
        },
        { requiredKeys: ['room', 'topic', 'kind', 'members', 'joined'] },
      ),
      { maxLength: 5 },
    ),
    deviceBound: fc.boolean(),
    serverTime: ts,
    limits,
  }),
  fc.record({
    type: fc.constant('presence'),
    user: username,
    state: fc.constantFrom('online' as const, 'away' as const, 'offline' as const),
    status: unicode(0, 50),
  }),
  fc.record({ type: fc.constant('keys'), re: requestId, user: username, devices: fc.array(device, { maxLength: 4 }) }),
  fc.record(
    { type: fc.constant('file_offered'), fileId, from: username, target, size: fc.nat(), name: unicode(1, 100), sha512: b64(64), ts },
    { requiredKeys: ['type', 'fileId', 'from', 'target', 'size', 'ts'] },
  ),
);

/** Cut points for a random chunking of a buffer of length n. */
const cutsFor = (n: number) => fc.array(fc.integer({ min: 0, max: Math.max(0, n) }), { maxLength: 40 });

const bothWays: { from: Sender; message: fc.Arbitrary<ClientMessage | ServerMessage>; seed: number }[] = [
  { from: 'client', message: clientMessage, seed: 0x5eed1 },
  { from: 'server', message: serverMessage, seed: 0x5eed2 },
];

describe('encode/decode round trip', () => {
  it.each(bothWays)('$from messages', ({ from, message, seed }) => {
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 6 }), (messages) => {
        for (const m of messages) expect(validate(from, m)).toEqual(m);
        expect(decode(from, encode(messages))).toEqual(messages);
      }),
      { numRuns: 300, seed },
    );
  });

  it('through a pair of channels under random chunkings', () => {
    fc.assert(
      fc.property(
        fc.array(clientMessage, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        fc.integer({ min: 512, max: 64 * 1024 }),
        (messages, cutSeeds, maxFrameSize) => {
          const client = new MessageChannel({ peer: 'server', maxFrameSize });
          const server = new MessageChannel({ peer: 'client', maxFrameSize });
          client.upgrade(plainCipher);
          server.upgrade(plainCipher);
          const fits = messages.filter((m) => Buffer.byteLength(JSON.stringify(m)) <= maxFrameSize - 64);
          const wire = Buffer.concat(client.frame(fits));
          const got = splitAt(
            wire,
            cutSeeds.map((c) => c % (wire.length + 1)),
          ).flatMap((part) => server.receive(part));
          expect(got).toEqual(fits);
          expect(server.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 200, seed: 0x5eed3 },
    );
  });
});

describe('FrameDecoder round trip', () => {
  it('returns the payloads in order for any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }).chain((payloads) => {
          const wire = Buffer.concat(payloads.map((p) => encodeFrame(p)));
          return fc.tuple(fc.constant(payloads), fc.constant(wire), cutsFor(wire.length));
        }),
        ([payloads, wire, cuts]) => {
          const decoder = new FrameDecoder({ maxFrameSize: 300 });
          const got = splitAt(wire, cuts).flatMap((part) => decoder.push(part));
          expect(got.map((b) => Buffer.from(b).toString('hex'))).toEqual(payloads.map((p) => Buffer.from(p).toString('hex')));
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 500, seed: 0x5eed4 },
    );
  });

  it('never returns a frame before its last byte arrives', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 200 }), (payload) => {
        const wire = encodeFrame(payload);
        const decoder = new FrameDecoder({ maxFrameSize: 200 });
        expect(decoder.push(wire.subarray(0, wire.length - 1))).toEqual([]);
        expect(decoder.bufferedBytes).toBe(wire.length - 1);
        expect(decoder.push(wire.subarray(wire.length - 1))).toHaveLength(1);
      }),
      { numRuns: 200, seed: 0x5eed5 },
    );
  });
});
