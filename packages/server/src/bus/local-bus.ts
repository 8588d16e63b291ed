// The bus of a single node: its commits are its whole stream, and there is nobody to signal.
import { randomUUID } from 'node:crypto';
import type { StoredMessage } from '../store/types.js';
import { CommitSequencer } from './commit-sequencer.js';
import type { Bus, BusHandlers, BusSignal, BusState } from './types.js';

export class LocalBus implements Bus {
  readonly node = randomUUID();
  readonly state: BusState = 'connected';
  private readonly sequencer: CommitSequencer;

  constructor(handlers: BusHandlers, options: { graceMs?: number } = {}) {
    this.sequencer = new CommitSequencer({ ...handlers, ...options });
  }

  publishCommitted(messages: readonly StoredMessage[]): void {
    // Still sequenced: concurrent appends may resolve out of id order, and the order must be the store's.
    this.sequencer.feed(messages);
  }

  signal(_signal: BusSignal): void {
    // No other node.
  }

  close(): Promise<void> {
    return this.sequencer.close();
  }
}
