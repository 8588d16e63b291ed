// The bus between hushd nodes: what one node committed reaches every node in one order, and the
// signals that live in memory (presence, typing, moderation, key changes, limiter hits) reach the
// other nodes. One node alone uses LocalBus (in-process, no cost); a cluster uses NatsBus.
import type { StoredMessage } from '../store/types.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * What a node tells the others without storing it. Best effort: a signal sent while the bus is down
 * is lost (presence and typing are refreshed, moderation and key changes are also in the store).
 * `hits`: limiter events (a failed login, a message against a rate limit) that each node replays
 * into its own limiter, so a limit holds across nodes; while the bus is down each node counts alone.
 * `files`: a file offered, cancelled or handled (its offer is also in the store, made again at login).
 * `notices`: a notice for one user's sessions (a read marker relayed, prekeys_low); the marker is stored.
 */
export type SignalTopic = 'presence' | 'typing' | 'moderation' | 'keys' | 'hits' | 'files' | 'notices';

export interface BusSignal {
  topic: SignalTopic;
  body: JsonValue;
}

export type BusState = 'connected' | 'disconnected';

/**
 * Reads committed messages from the store: every message with `after` < id, oldest first, at most
 * `limit`. Store ids are global and drawn in commit order (a reader that sees id N sees every
 * committed id below N), which is what makes a gap decidable.
 */
export type FillGap = (range: { after: string; limit: number }) => Promise<readonly StoredMessage[]>;

export interface BusHandlers {
  /**
   * The id this node has already delivered up to (the store's last message id at start): the bus
   * delivers only later ids.
   */
  from: string;
  /** Committed messages in id order, each exactly once, the same order on every node. */
  deliver(messages: readonly StoredMessage[]): void;
  fillGap: FillGap;
  /** A signal from another node (never this node's own). */
  onSignal?(signal: BusSignal, node: string): void;
  /**
   * Another node was heard for the first time ('up'), or closed or fell silent for three heartbeats
   * ('down'): what it held in memory (its users' presence, typing) is gone with it.
   */
  onNode?(node: string, state: 'up' | 'down'): void;
  /** Connected to the bus or not (health checks; a node that lost its bus may refuse new work). */
  onState?(state: BusState): void;
  /** A failure the bus recovers from by itself (a gap fill that failed and will be retried). */
  onError?(error: Error): void;
}

export interface Bus {
  /** This node's id: unique per process. */
  readonly node: string;
  readonly state: BusState;
  /**
   * Messages this node committed, as the store returned them (id order): delivered here at once,
   * and on every other node in id order with everything the others committed.
   */
  publishCommitted(messages: readonly StoredMessage[]): void;
  /** A signal for every other node; signals sent in one event-loop turn travel together. */
  signal(signal: BusSignal): void;
  /** Stops delivering and disconnects; pending signals are sent first. */
  close(): Promise<void>;
}
