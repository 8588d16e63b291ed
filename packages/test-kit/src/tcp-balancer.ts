// A round-robin TCP load balancer on 127.0.0.1, the way docs/cluster.md puts several hushd nodes
// behind one address: each new connection is piped to the next backend in turn. Tests point
// unchanged clients at it so they spread over a cluster's nodes.
import { createConnection, createServer, type Socket } from 'node:net';

export interface TcpBalancer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Stops listening and closes every piped connection. Idempotent. */
  stop(): Promise<void>;
}

export async function startTcpBalancer(backends: readonly { host: string; port: number }[]): Promise<TcpBalancer> {
  if (backends.length === 0) throw new Error('a TCP balancer needs at least one backend');
  const sockets = new Set<Socket>();
  const adopt = (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  };
  let next = 0;
  const server = createServer((inbound) => {
    const backend = backends[next++ % backends.length]!;
    const outbound = createConnection(backend.port, backend.host);
    adopt(inbound);
    adopt(outbound);
    // Either side closing or failing closes the other, as a real balancer does.
    inbound.on('error', () => outbound.destroy());
    outbound.on('error', () => inbound.destroy());
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the TCP balancer has no port');
  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1',
    port: address.port,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return stopped;
    },
  };
}
