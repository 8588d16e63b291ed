// A fake server whose server_hello offers an all-zero (low-order) ephemeral key, as a man in the
// middle might: the SDK must refuse, and the app must show the reason in words. It speaks the
// protocol version the client does (PROTOCOL.md: 4), so the key is the only thing wrong.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');

/** Plaintext handshake framing: 4-byte big-endian length, then the JSON message. */
function frame(message: object): Buffer {
  const payload = Buffer.from(JSON.stringify(message));
  const header = Buffer.alloc(4);
  header.writeUInt32BE(payload.length, 0);
  return Buffer.concat([header, payload]);
}

export interface FakeServer {
  port: number;
  close(): Promise<void>;
}

export async function lowOrderKeyServer(): Promise<FakeServer> {
  const server: Server = createServer((socket) => {
    socket.on('error', () => undefined);
    socket.once('data', () => {
      socket.write(
        frame({
          type: 'server_hello',
          version: 4,
          versions: [4],
          ephemeral: b64(new Uint8Array(32)),
          identity: b64(randomBytes(32)),
          signature: b64(randomBytes(64)),
          finished: b64(randomBytes(64)),
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
