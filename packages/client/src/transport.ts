import { connect as netConnect, type Socket } from 'node:net';
import { ClientHandshake, type HandshakeResult } from '@hush/crypto';
import {
  handshakeFromWire,
  handshakeToWire,
  MessageChannel,
  SUPPORTED_VERSIONS,
  type ClientMessage,
  type ServerMessage,
} from '@hush/protocol';
import { HushError } from './errors.js';
import { handshakeFailure } from './handshake-failure.js';

export interface TransportOptions {
  host: string;
  port: number;
  /** Until the server's hello arrives (the pin check and a trust prompt are not counted). */
  timeoutMs: number;
  /** Pin check: throw to refuse the server. Runs before client_finished is sent. */
  verifyServer: (session: HandshakeResult) => Promise<void>;
  onMessage: (message: ServerMessage) => void;
  /** Once established: the socket closed (error = why, when it was not a clean end). */
  onClose: (error: Error | undefined) => void;
}

/**
 * One TCP connection speaking the secure channel: handshake, pin check, then sealed messages.
 * Knows nothing about requests, logins or reconnects.
 */
export class Transport {
  readonly session: HandshakeResult;
  private readonly socket: Socket;
  private readonly channel: MessageChannel<'server'>;
  private closed = false;

  private constructor(socket: Socket, channel: MessageChannel<'server'>, session: HandshakeResult) {
    this.socket = socket;
    this.channel = channel;
    this.session = session;
  }

  static open(options: TransportOptions): Promise<Transport> {
    return new Promise<Transport>((resolve, reject) => {
      const socket = netConnect({ host: options.host, port: options.port });
      socket.setNoDelay(true);
      const channel = new MessageChannel({ peer: 'server' });
      const handshake = new ClientHandshake({ versions: [...SUPPORTED_VERSIONS] });
      let phase: 'hello' | 'verify' | 'open' | 'failed' = 'hello';
      let transport: Transport | undefined;
      let lastError: Error | undefined;
      // The server gave up waiting while the pin was being decided (a person reading a fingerprint).
      let closedWhileVerifying = false;

      const fail = (error: HushError) => {
        if (phase === 'failed' || phase === 'open') return;
        phase = 'failed';
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const timer = setTimeout(
        () => fail(new HushError('TIMEOUT', `no handshake from ${options.host}:${options.port}`)),
        options.timeoutMs,
      );

      socket.on('connect', () => {
        const hello = handshake.start();
        socket.write(channel.frame([handshakeToWire('client_hello', hello)])[0]!);
      });

      socket.on('data', (chunk: Buffer) => {
        let messages: ServerMessage[];
        try {
          messages = channel.receive(chunk);
        } catch (cause) {
          if (phase === 'open') {
            lastError = cause as Error;
            socket.destroy();
          } else {
            fail(new HushError('HANDSHAKE_FAILED', 'the server sent an invalid handshake', { cause }));
          }
          return;
        }
        if (phase === 'open') {
          for (const m of messages) transport!.deliver(m, options.onMessage);
          return;
        }
        if (phase !== 'hello') return;
        const first = messages[0];
        if (first?.type !== 'server_hello') {
          const code = first && (first.type === 'error' || first.type === 'goodbye') ? first.code : 'HANDSHAKE_FAILED';
          fail(new HushError(code, first && 'message' in first ? `server: ${first.message}` : undefined));
          return;
        }
        clearTimeout(timer);
        phase = 'verify'; // the server sends nothing more until client_finished; a close is noted
        let finished: { finished: Uint8Array };
        let session: HandshakeResult;
        try {
          ({ finished, result: session } = handshake.receive(handshakeFromWire(first)));
        } catch (cause) {
          fail(handshakeFailure(cause));
          return;
        }
        options.verifyServer(session).then(
          () => {
            if (phase !== 'verify') return;
            if (socket.destroyed || closedWhileVerifying) {
              fail(new HushError('CONNECTION_CLOSED', 'the server closed the connection during the handshake'));
              return;
            }
            socket.write(channel.frame([handshakeToWire('client_finished', finished)])[0]!);
            channel.upgrade(session.cipher);
            phase = 'open';
            transport = new Transport(socket, channel, session);
            resolve(transport);
          },
          (error: unknown) => fail(error instanceof HushError ? error : new HushError('HANDSHAKE_FAILED', undefined, { cause: error })),
        );
      });

      socket.on('error', (error) => {
        lastError = error;
        if (phase === 'hello') fail(new HushError('CONNECT_FAILED', `${options.host}:${options.port}: ${error.message}`, { cause: error }));
      });
      socket.on('close', () => {
        if (phase === 'open') {
          transport!.closed = true;
          options.onClose(lastError);
        } else if (phase === 'verify') {
          closedWhileVerifying = true; // failed once the decision is in: a pin given meanwhile is kept
        } else {
          fail(new HushError('CONNECTION_CLOSED', 'the server closed the connection during the handshake', { cause: lastError }));
        }
      });
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.socket.destroyed;
  }

  /** True while the socket's buffer is above its high-water mark (file uploads wait for drain). */
  get congested(): boolean {
    return this.socket.writableNeedDrain;
  }

  waitDrain(): Promise<void> {
    if (!this.socket.writableNeedDrain || !this.isOpen) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  send(messages: ClientMessage[]): void {
    if (!this.isOpen) throw new HushError('CONNECTION_CLOSED');
    for (const frame of this.channel.frame(messages)) this.socket.write(frame);
  }

  /** Graceful close: flush what was written, then FIN. */
  end(): Promise<void> {
    if (this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.socket.destroy(), 2000);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      this.socket.end();
    });
  }

  destroy(): void {
    this.socket.destroy();
  }

  private deliver(message: ServerMessage, onMessage: (m: ServerMessage) => void): void {
    if (this.closed) return;
    onMessage(message);
  }
}
