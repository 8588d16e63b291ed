import { CryptoError } from './errors.js';

// Per-conversation sequence checks for end-to-end messages: the sender numbers
// each conversation 1, 2, 3, ... inside the sealed payload, so the recipient
// detects the server replaying, reordering or dropping messages.

export type SequenceStatus = { status: 'ok' } | { status: 'replay' } | { status: 'gap'; missing: number };

export interface SequenceTrackerState {
  version: 1;
  /** conversationKey → highest seq seen and the numbers still missing below it. */
  conversations: Record<string, { last: number; missing: number[] }>;
}

export interface SequenceTrackerOptions {
  /** Missing numbers remembered per conversation (default 1000); older ones count as replays if they arrive. */
  maxMissing?: number;
}

interface Conversation {
  last: number;
  missing: Set<number>;
}

export class SequenceTracker {
  private readonly conversations = new Map<string, Conversation>();
  private readonly maxMissing: number;

  constructor(options: SequenceTrackerOptions = {}) {
    const max = options.maxMissing ?? 1000;
    if (!Number.isSafeInteger(max) || max < 0) throw new CryptoError('INVALID_ARGUMENT');
    this.maxMissing = max;
  }

  /**
   * Records `seq` for the conversation. 'ok': the next one, or a late message
   * filling a gap reported earlier. 'gap': accepted, but `missing` messages were
   * skipped (dropped or delayed by the server). 'replay': seen before (or too old
   * to tell): discard it. Sequences start at 1.
   */
  check(conversationKey: string, seq: number): SequenceStatus {
    if (typeof conversationKey !== 'string' || !Number.isSafeInteger(seq) || seq < 1) throw new CryptoError('INVALID_ARGUMENT');
    let c = this.conversations.get(conversationKey);
    if (c === undefined) {
      c = { last: 0, missing: new Set() };
      this.conversations.set(conversationKey, c);
    }
    if (seq <= c.last) {
      return c.missing.delete(seq) ? { status: 'ok' } : { status: 'replay' };
    }
    const missing = seq - c.last - 1;
    // Remember at most maxMissing of the newest skipped numbers.
    for (let n = Math.max(c.last + 1, seq - this.maxMissing); n < seq; n++) c.missing.add(n);
    if (c.missing.size > this.maxMissing) {
      const sorted = [...c.missing].sort((a, b) => a - b);
      for (const n of sorted.slice(0, sorted.length - this.maxMissing)) c.missing.delete(n);
    }
    c.last = seq;
    return missing === 0 ? { status: 'ok' } : { status: 'gap', missing };
  }

  /** Plain JSON state for persistence. */
  exportState(): SequenceTrackerState {
    const conversations: Record<string, { last: number; missing: number[] }> = Object.create(null);
    for (const [key, c] of this.conversations) conversations[key] = { last: c.last, missing: [...c.missing].sort((a, b) => a - b) };
    return { version: 1, conversations };
  }

  /** Restores exported state; anything malformed is INVALID_ARGUMENT. */
  static importState(state: SequenceTrackerState, options: SequenceTrackerOptions = {}): SequenceTracker {
    const tracker = new SequenceTracker(options);
    const s = state as Partial<SequenceTrackerState> | null;
    if (typeof s !== 'object' || s === null || s.version !== 1 || typeof s.conversations !== 'object' || s.conversations === null) {
      throw new CryptoError('INVALID_ARGUMENT');
    }
    for (const [key, value] of Object.entries(s.conversations)) {
      const v = value as Partial<{ last: number; missing: number[] }> | null;
      if (
        typeof v !== 'object' ||
        v === null ||
        !Number.isSafeInteger(v.last) ||
        (v.last as number) < 0 ||
        !Array.isArray(v.missing) ||
        v.missing.length > tracker.maxMissing ||
        !v.missing.every((n) => Number.isSafeInteger(n) && n >= 1 && n < (v.last as number))
      ) {
        throw new CryptoError('INVALID_ARGUMENT');
      }
      tracker.conversations.set(key, { last: v.last as number, missing: new Set(v.missing) });
    }
    return tracker;
  }
}
