// MessageChannel.receiveEach (added to @hush/protocol for the server): no input is lost around
// the upgrade or after a bad record.
import { describe, expect, it } from 'vitest';
import { MessageChannel, ProtocolError } from '@hush/protocol';

const passthrough = { seal: (p: Uint8Array) => p, open: (r: Uint8Array) => r };

describe('MessageChannel.receiveEach', () => {
  it('holds frames behind a handshake frame until the upgrade', () => {
    const client = new MessageChannel({ peer: 'server' });
    const server = new MessageChannel({ peer: 'client' });
    const finished = client.frame([{ type: 'client_finished', finished: 'A'.repeat(86) }]);
    client.upgrade(passthrough);
    const sealed = client.frame([{ type: 'room_list', id: '1' }]);
    const first = server.receiveEach(Buffer.concat([...finished, ...sealed]));
    expect(first.map((m) => (m instanceof ProtocolError ? m.code : m.type))).toEqual(['client_finished']);
    server.upgrade(passthrough);
    expect(server.receiveEach(new Uint8Array(0))).toEqual([{ type: 'room_list', id: '1' }]);
  });

  it('returns a bad message as its error and keeps decoding the next records', () => {
    const client = new MessageChannel({ peer: 'server' });
    const server = new MessageChannel({ peer: 'client' });
    client.upgrade(passthrough);
    server.upgrade(passthrough);
    const bytes = Buffer.concat([...client.frame(['{"type":"nope"}']), ...client.frame([{ type: 'users_list', id: '2' }])]);
    const out = server.receiveEach(bytes);
    expect(out[0]).toBeInstanceOf(ProtocolError);
    expect((out[0] as ProtocolError).code).toBe('UNKNOWN_TYPE');
    expect(out[1]).toEqual({ type: 'users_list', id: '2' });
  });
});
