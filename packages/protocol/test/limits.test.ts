import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_MAX_FRAME_SIZE, FrameDecoder, HANDSHAKE_MAX_FRAME_SIZE, MessageChannel } from '../src/index.js';
import { plainCipher, protocolErrorOf } from './helpers.js';

const header = (length: number): Buffer => {
  const h = Buffer.alloc(4);
  h.writeUInt32BE(length);
  return h;
};
/** A frame holding a valid `ping` padded with spaces to exactly `size` payload bytes. */
const pingFrame = (size: number): Buffer => {
  const json = '{"type":"ping"}';
  return Buffer.concat([header(size), Buffer.from(json + ' '.repeat(size - json.length))]);
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('frame limits', () => {
  it('the limits are 4 KiB before the handshake and 1 MiB after', () => {
    expect(HANDSHAKE_MAX_FRAME_SIZE).toBe(4096);
    expect(DEFAULT_MAX_FRAME_SIZE).toBe(1024 * 1024);
  });

  it('refuses a 0xFFFFFFFF length header before allocating anything', () => {
    const decoder = new FrameDecoder({ maxFrameSize: DEFAULT_MAX_FRAME_SIZE });
    const channel = new MessageChannel({ peer: 'client' });
    const allocUnsafe = vi.spyOn(Buffer, 'allocUnsafe');
    const alloc = vi.spyOn(Buffer, 'alloc');
    expect(decoder.push(Uint8Array.of(0xff, 0xff, 0xff))).toEqual([]);
    expect(decoder.bufferedBytes).toBe(3);
    expect(protocolErrorOf(() => decoder.push(Uint8Array.of(0xff, 0x7b))).code).toBe('FRAME_TOO_LARGE');
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(4);
    expect(protocolErrorOf(() => channel.receive(Buffer.from('ffffffff7b7b7b', 'hex'))).code).toBe('FRAME_TOO_LARGE');
    expect(channel.bufferedBytes).toBeLessThanOrEqual(4);
    expect(allocUnsafe).not.toHaveBeenCalled();
    expect(alloc).not.toHaveBeenCalled();
  });

  it('buffers no more than the header for a refused frame even when the payload follows', () => {
    const decoder = new FrameDecoder({ maxFrameSize: 100 });
    const err = protocolErrorOf(() => decoder.push(Buffer.concat([header(101), Buffer.alloc(101)])));
    expect(err.code).toBe('FRAME_TOO_LARGE');
    expect(decoder.bufferedBytes).toBeLessThanOrEqual(4);
  });

  it('stays failed after an oversized frame', () => {
    const decoder = new FrameDecoder({ maxFrameSize: 8 });
    expect(() => decoder.push(header(9))).toThrow();
    expect(protocolErrorOf(() => decoder.push(Buffer.concat([header(1), Buffer.from('x')]))).code).toBe('FRAME_TOO_LARGE');
  });

  it('accepts exactly 4 KiB and refuses 4 KiB + 1 before the handshake', () => {
    expect(new MessageChannel({ peer: 'client' }).receive(pingFrame(HANDSHAKE_MAX_FRAME_SIZE))).toEqual([{ type: 'ping' }]);
    const err = protocolErrorOf(() => new MessageChannel({ peer: 'client' }).receive(header(HANDSHAKE_MAX_FRAME_SIZE + 1)));
    expect(err.code).toBe('FRAME_TOO_LARGE');
  });

  it('widens to 1 MiB after upgrade and refuses 1 MiB + 1', () => {
    const channel = new MessageChannel({ peer: 'client' });
    channel.upgrade(plainCipher);
    expect(channel.receive(pingFrame(DEFAULT_MAX_FRAME_SIZE))).toEqual([{ type: 'ping' }]);
    expect(channel.receive(pingFrame(HANDSHAKE_MAX_FRAME_SIZE + 1))).toEqual([{ type: 'ping' }]);
    expect(protocolErrorOf(() => channel.receive(header(DEFAULT_MAX_FRAME_SIZE + 1))).code).toBe('FRAME_TOO_LARGE');
  });

  it('takes both limits as options', () => {
    const channel = new MessageChannel({ peer: 'client', handshakeMaxFrameSize: 100, maxFrameSize: 200 });
    expect(protocolErrorOf(() => channel.receive(header(101))).code).toBe('FRAME_TOO_LARGE');
    const secure = new MessageChannel({ peer: 'client', handshakeMaxFrameSize: 100, maxFrameSize: 200 });
    secure.upgrade(plainCipher);
    expect(secure.receive(pingFrame(200))).toEqual([{ type: 'ping' }]);
    expect(protocolErrorOf(() => secure.receive(header(201))).code).toBe('FRAME_TOO_LARGE');
  });

  it('rejects nonsensical limits', () => {
    expect(() => new FrameDecoder({ maxFrameSize: 0 })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameSize: 2 ** 32 })).toThrow(RangeError);
    expect(() => new FrameDecoder({ maxFrameSize: 1.5 })).toThrow(RangeError);
  });

  it('splits outgoing messages into several records so that each fits the limit', () => {
    const sender = new MessageChannel({ peer: 'server', maxFrameSize: 4096 });
    sender.upgrade(plainCipher);
    const messages = Array.from({ length: 20 }, (_, i) => ({ type: 'send' as const, id: String(i), room: 'lobby', text: 'y'.repeat(500) }));
    const frames = sender.frame(messages);
    expect(frames.length).toBeGreaterThan(1);
    for (const f of frames) expect(f.length - 4).toBeLessThanOrEqual(4096);
    const receiver = new MessageChannel({ peer: 'client', maxFrameSize: 4096 });
    receiver.upgrade(plainCipher);
    expect(frames.flatMap((f) => receiver.receive(f))).toEqual(messages);
  });
});
