// A minimal handshake-only server built from @hush/crypto's ServerHandshake: it can speak protocol
// versions hushd does not (e.g. [2, 1]), so that a version downgrade by a man in the middle is
// observable. It answers client_hello with server_hello and records whether client_finished came.
import { createServer, type Server, type Socket } from 'node:net';
import { ServerHandshake, ServerIdentity } from '@hush/crypto';
import { handshakeFromWire, handshakeToWire, MessageChannel } from '@hush/protocol';

export class HandshakeServer {
  readonly identity = ServerIdentity.generate();
  /** Versions agreed, per completed handshake. */
  readonly completed: number[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  port = 0;

  constructor(private readonly versions: number[]) {}

  async start(): Promise<this> {
    this.server = createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  private accept(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {});
    const channel = new MessageChannel({ peer: 'client' });
    const hs = new ServerHandshake({ identity: this.identity, versions: this.versions });
    let version = 0;
    socket.on('data', (chunk: Buffer) => {
      try {
        let messages = channel.receive(chunk);
        while (messages.length > 0) {
          for (const m of messages) {
            if (m.type === 'client_hello') {
              const hello = hs.receive(handshakeFromWire(m));
              version = hello.version;
              socket.write(channel.frame([handshakeToWire('server_hello', hello)])[0]!);
            } else if (m.type === 'client_finished') {
              const result = hs.finish(handshakeFromWire(m));
              channel.upgrade(result.cipher);
              this.completed.push(version);
              return;
            }
          }
          messages = channel.receive(new Uint8Array(0));
        }
      } catch {
        socket.destroy();
      }
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
