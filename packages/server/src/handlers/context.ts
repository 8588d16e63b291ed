// What request handlers work with besides their session (session.ts): the server's parts, built in
// order by HushServer. Each handler names the parts it uses (`Pick<ServerContext, ...>`).
import type { Accounts } from '../accounts.js';
import type { ClusterSender } from '../cluster-sender.js';
import type { HushdConfig } from '../config.js';
import type { FileRelay } from '../files.js';
import type { Logger } from '../logger.js';
import type { Metrics } from '../metrics.js';
import type { OnlineUsers } from '../online-users.js';
import type { RoomRegistry } from '../rooms.js';
import type { AsyncStore } from '../store/async-store.js';
import type { Fanout } from './fanout.js';
import type { MessageBatch } from './message-batch.js';
import type { PresenceBatch } from './presence-batch.js';
import type { UserBudgets } from '../rate-limit.js';
import type { Session } from './session.js';

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
  /** The other nodes (nobody when this node is alone). */
  readonly cluster: ClusterSender;
  /** Each user's message budget, shared by their sessions (and debited by the other nodes). */
  readonly userBudgets: UserBudgets;
  now(): number;
}
