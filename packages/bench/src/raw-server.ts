import { createServer, type Server, type Socket } from 'node:net';
import { FrameDecoder } from '@hush/protocol';

// The ceiling: a minimal TCP broadcast server with the same framing as Hush (4-byte big-endian
// length prefix) and the same coalescing (everything bound for one peer in one event-loop turn goes
// out as one frame, lines joined by "\n", in one write), but no crypto, no validation, no storage.
// A client's frame is a ready-made `{"type":"message",...}` line: it is relayed as-is to every other
// member (and to the sender too when `echo`), and the sender gets `{"type":"ack"}` at the flush.

const ACK = Buffer.from('{"type":"ack"}');
const NEWLINE = 10;
const MAX_FRAME = 1024 * 1024;

export interface RawServerOptions {
  host: string;
  port: number;
  /** Deliver a message to its sender as well (set to what Hush does, so counts compare). */
  echo: boolean;
}

interface Peer {
  socket: Socket;
  decoder: FrameDecoder;
  pending: Buffer[];
  pendingBytes: number;
}

export interface RawServer {
  port: number;
  readonly connectionCount: number;
  /** Frames written so far (one per peer per turn with something for it). */
  readonly framesOut: number;
  close(): Promise<void>;
}

export async function startRawServer(options: RawServerOptions): Promise<RawServer> {
  const peers = new Set<Peer>();
  const dirty = new Set<Peer>();
  let flushScheduled = false;
  let framesOut = 0;

  const queue = (peer: Peer, line: Buffer) => {
    peer.pending.push(line);
    peer.pendingBytes += line.length + 1;
    dirty.add(peer);
  };

  const flush = () => {
    flushScheduled = false;
    for (const peer of dirty) {
      // One frame per peer per turn: header, lines joined by "\n".
      const size = peer.pendingBytes - 1;
      const out = Buffer.allocUnsafe(4 + size);
      out.writeUInt32BE(size, 0);
      let at = 4;
      for (let i = 0; i < peer.pending.length; i++) {
        if (i > 0) out[at++] = NEWLINE;
        const line = peer.pending[i]!;
        line.copy(out, at);
        at += line.length;
      }
      peer.pending = [];
      peer.pendingBytes = 0;
      if (!peer.socket.destroyed) peer.socket.write(out);
      framesOut++;
    }
    dirty.clear();
  };

  const server: Server = createServer({ noDelay: true }, (socket) => {
    const peer: Peer = { socket, decoder: new FrameDecoder({ maxFrameSize: MAX_FRAME }), pending: [], pendingBytes: 0 };
    peers.add(peer);
    socket.on('data', (chunk) => {
      let frames: Buffer[];
      try {
        frames = peer.decoder.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        // The decoder may hand out views into `chunk`: copy once, share among recipients.
        const line = Buffer.from(frame);
        for (const other of peers) if (other !== peer || options.echo) queue(other, line);
        queue(peer, ACK);
      }
      if (!flushScheduled && dirty.size > 0) {
        flushScheduled = true;
        setImmediate(flush);
      }
    });
    const drop = () => {
      peers.delete(peer);
      dirty.delete(peer);
    };
    socket.on('close', drop);
    socket.on('error', drop);
  });
  server.maxConnections = 100_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('raw server: no TCP address');
  return {
    port: address.port,
    get connectionCount() {
      return peers.size;
    },
    get framesOut() {
      return framesOut;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const peer of peers) peer.socket.destroy();
        server.close(() => resolve());
      }),
  };
}
