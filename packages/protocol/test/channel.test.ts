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
    const hello = { type: 'client_hello' as const, versions: [1], ephemeral: 'A'.repeat(43) };
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
    server.upgrade({ seal: (p) => p, open: () => { throw new Error('tampered'); } });
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
