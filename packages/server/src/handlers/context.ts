// What request handlers work with: the session they serve and the server's parts, built in order
// by HushServer. Each handler names the parts it uses (`Pick<ServerContext, ...>`).
import type { ProtocolErrorCode, ServerMessage, SessionLimits } from '@hush/protocol';
import type { Accounts } from '../accounts.js';
import type { HushdConfig } from '../config.js';
import type { FileRelay } from '../files.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OnlineUser, OnlineUsers } from '../online-users.js';
import type { SharedBlock } from '../outbound.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Fanout } from './fanout.js';
import type { MessageBatch } from './message-batch.js';
import type { PresenceBatch } from './presence-batch.js';

/** One client connection as handlers see it (implemented by Connection). */
export interface Session {
  readonly id: number;
  readonly address: string;
  /** From the handshake; login proofs are bound to it. */
  readonly sessionId: Uint8Array;
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

export interface ServerContext {
  readonly store: AsyncStore;
  readonly accounts: Accounts;
  readonly config: HushdConfig;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly online: OnlineUsers<Session>;
  readonly rooms: RoomRegistry<Session>;
  readonly sessions: ReadonlySet<Session>;
  readonly fanout: Fanout;
  readonly batch: MessageBatch;
  readonly presence: PresenceBatch;
  readonly files: FileRelay;
  now(): number;
}
