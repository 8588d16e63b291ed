// A client session as everything that serves it sees it (implemented by Connection). Its own
// module, so that the parts of the server (message batch, presence batch, file relay) and the
// handler groups depend on it rather than on each other.
import type { ProtocolErrorCode, ServerMessage, SessionLimits } from '@hush/protocol';
import type { OnlineUser } from '../online-users.js';
import type { SharedBlock } from '../outbound.js';

/** One client connection as handlers see it (implemented by Connection). */
export interface Session {
  readonly id: number;
  readonly address: string;
  /** From the handshake; login proofs are bound to it. */
  readonly sessionId: Uint8Array;
  /** The protocol version the handshake settled on: requests added later are refused. */
  readonly version: number;
  user: OnlineUser<Session> | null;
  readonly closed: boolean;
  /** Bytes queued for this session and not yet taken by the kernel. */
  readonly backlog: number;
  /** Called when the socket can take more (file downloads resume from here). */
  onWritable: (() => void) | null;
  send(message: ServerMessage): void;
  sendLine(line: string): void;
  /** Queues a block of lines shared with other sessions (a room's messages of one turn). */
  sendBlock(block: SharedBlock): void;
  /**
   * Spends one token of the signal budget (typing, read markers); false when there is none and the
   * signal is not to be relayed. A session that keeps signalling without tokens is closed.
   */
  signal(): boolean;
  /** The limits this session is held to (fixed when it connected), announced in welcome. */
  readonly limits: SessionLimits;
  /** Marks the session logged in (stops the auth deadline). */
  authenticated(user: OnlineUser<Session>): void;
  /** Sends `goodbye` with `code`, flushes and closes. */
  close(code: ProtocolErrorCode, message: string): void;
  /** Flushes and closes without a goodbye (after logout). */
  end(): void;
}
