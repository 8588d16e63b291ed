import { describe, expect, it } from 'vitest';
import { MessageChannel, ProtocolError, type RecordCipher } from '../src/index.js';

/** A toy cipher that only marks records, enough to test the channel's plumbing. */
const xor: RecordCipher = {
  seal: (p) => Uint8Array.from(p, (b) => b ^ 0x5a),
  open: (r) => Uint8Array.from(r, (b) => b ^ 0x5a),
};

describe('MessageChannel', () => {
  it('carries one plaintext message per frame before the handshake, several per record after', () => {
    const client = new MessageChannel({ peer: 'server' });
    const server = new MessageChannel({ peer: 'client' });
    const hello = { type: 'client_hello' as const, versions: [2], ephemeral: 'A'.repeat(43) };
    const [frame] = client.frame([hello]);
    expect(server.receive(frame!)).toEqual([hello]);

    client.upgrade(xor);
    server.upgrade(xor);
    const frames = client.frame([
      { type: 'ping', nonce: 'a' },
      { type: 'send', id: '1', room: 'lobby', text: 'hi' },
    ]);
    expect(frames).toHaveLength(1);
    const bytes = frames[0]!;
    const got = [...server.receive(bytes.subarray(0, 3)), ...server.receive(bytes.subarray(3))];
    expect(got.map((m) => m.type)).toEqual(['ping', 'send']);
  });

  it('refuses a client message that names its own sender', () => {
    const server = new MessageChannel({ peer: 'client' });
    server.upgrade(xor);
    const client = new MessageChannel({ peer: 'server' });
    client.upgrade(xor);
    const forged = JSON.stringify({ type: 'send', id: '1', room: 'lobby', text: 'hi', from: 'alice' });
    expect(() => server.receive(client.frame([forged])[0]!)).toThrow(ProtocolError);
  });

  it('turns a record-layer failure into BAD_RECORD', () => {
    const server = new MessageChannel({ peer: 'client' });
    server.upgrade({
      seal: (p) => p,
      open: () => {
        throw new Error('tampered');
      },
    });
    const client = new MessageChannel({ peer: 'server' });
    client.upgrade(xor);
    try {
      server.receive(client.frame([{ type: 'ping' }])[0]!);
      expect.unreachable();
    } catch (e) {
      expect((e as ProtocolError).code).toBe('BAD_RECORD');
    }
  });
});

describe('MessageChannel at the handshake boundary', () => {
  const hello = { type: 'client_hello' as const, versions: [2], ephemeral: 'A'.repeat(43) };
  const finished = { type: 'client_finished' as const, finished: 'B'.repeat(86) };

  it('holds sealed records that arrive behind the last handshake frame until upgrade', () => {
    const client = new MessageChannel({ peer: 'server' });
    const server = new MessageChannel({ peer: 'client' });
    expect(server.receive(client.frame([hello])[0]!)).toEqual([hello]);
    const finishedFrame = client.frame([finished])[0]!;
    client.upgrade(xor);
    // A sealed record larger than the 4 KiB pre-handshake limit, in the same chunk as client_finished.
    const big = { type: 'send' as const, id: '1', room: 'lobby', text: 'x'.repeat(4000) };
    const sealed = client.frame([big, big]);
    const chunk = Buffer.concat([finishedFrame, ...sealed]);
    expect(server.receive(chunk)).toEqual([finished]);
    expect(server.bufferedBytes).toBe(chunk.length - finishedFrame.length);
    server.upgrade(xor);
    expect(server.receive(new Uint8Array(0))).toEqual([big, big]);
    expect(server.bufferedBytes).toBe(0);
  });

  it('returns one handshake message per call, the next one on the following call', () => {
    const server = new MessageChannel({ peer: 'client' });
    const client = new MessageChannel({ peer: 'server' });
    const both = Buffer.concat([...client.frame([hello]), ...client.frame([finished])]);
    expect(server.receive(both)).toEqual([hello]);
    expect(server.receive(new Uint8Array(0))).toEqual([finished]);
    expect(server.receive(new Uint8Array(0))).toEqual([]);
  });

  it('bounds what it holds before the upgrade', () => {
    const server = new MessageChannel({ peer: 'client', handshakeMaxFrameSize: 100, maxFrameSize: 1000 });
    const client = new MessageChannel({ peer: 'server' });
    const ping = client.frame([{ type: 'ping' }])[0]!;
    expect(server.receive(Buffer.concat([ping, Buffer.alloc(1100)]))).toEqual([{ type: 'ping' }]);
    const other = new MessageChannel({ peer: 'client', handshakeMaxFrameSize: 100, maxFrameSize: 1000 });
    expect(() => other.receive(Buffer.concat([ping, Buffer.alloc(1101)]))).toThrow(/too much data before the handshake/);
  });
});

describe('MessageChannel.receiveEach', () => {
  it('yields errors in place and keeps decoding the rest', () => {
    const server = new MessageChannel({ peer: 'client' });
    server.upgrade(xor);
    const client = new MessageChannel({ peer: 'server' });
    client.upgrade(xor);
    const wire = Buffer.concat([
      ...client.frame([{ type: 'ping', nonce: '1' }, '{"type":"ping","x":1}', '{"type":"nope"}', { type: 'ping', nonce: '2' }]),
      ...client.frame(['not json', { type: 'ping', nonce: '3' }]),
    ]);
    const out = server.receiveEach(wire);
    expect(out.map((m) => (m instanceof ProtocolError ? m.code : m.type === 'ping' ? m.nonce : m.type))).toEqual([
      '1',
      'SCHEMA_VIOLATION',
      'UNKNOWN_TYPE',
      '2',
      'MALFORMED_JSON',
      '3',
    ]);
  });

  it('ends with BAD_RECORD when the record layer refuses', () => {
    const server = new MessageChannel({ peer: 'client' });
    let n = 0;
    server.upgrade({
      seal: (p) => p,
      open: (r) => {
        if (n++ > 0) throw new Error('replay');
        return Uint8Array.from(r, (b) => b ^ 0x5a);
      },
    });
    const client = new MessageChannel({ peer: 'server' });
    client.upgrade(xor);
    const wire = Buffer.concat([
      ...client.frame([{ type: 'ping' }]),
      ...client.frame([{ type: 'pong' }]),
      ...client.frame([{ type: 'ping' }]),
    ]);
    const out = server.receiveEach(wire);
    expect(out).toHaveLength(2);
    expect(out[0]).toEqual({ type: 'ping' });
    expect((out[1] as ProtocolError).code).toBe('BAD_RECORD');
  });
});
