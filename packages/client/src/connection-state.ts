import { HushError } from './errors.js';
import type { ConnectionState } from './types.js';

/**
 * Where the connection core is. One value instead of flags, so no combination can contradict another.
 * - connecting: the first connection is opening (HushClient.connect has not returned yet)
 * - ready: a connection is open; logged in or not
 * - loggingOut: the server ended the session; the old connection ends and a fresh anonymous one opens
 * - reconnecting: the connection dropped; waiting out the backoff or opening a new one
 * - resuming: a new connection is open; logging in again and catching up before events flow
 * - closing: close() or a final goodbye; pending calls fail and the socket ends
 * - closed: for good
 */
export type Phase = 'connecting' | 'ready' | 'loggingOut' | 'reconnecting' | 'resuming' | 'closing' | 'closed';

const ALLOWED: Readonly<Record<Phase, readonly Phase[]>> = {
  connecting: ['ready', 'closing'],
  ready: ['loggingOut', 'reconnecting', 'closing'],
  loggingOut: ['ready', 'reconnecting', 'closing'],
  reconnecting: ['resuming', 'ready', 'closing'],
  resuming: ['ready', 'reconnecting', 'closing'],
  closing: ['closed'],
  closed: [],
};

/** The next phase; throws when the move is not one of the allowed transitions (a bug, not a network event). */
export function transition(from: Phase, to: Phase): Phase {
  if (!ALLOWED[from].includes(to)) throw new HushError('INTERNAL', `connection: no transition from ${from} to ${to}`);
  return to;
}

/**
 * What `HushClient.state` shows for a phase. Logging out stays 'ready' (a fresh connection follows at
 * once); resuming is still 'reconnecting' (not usable until caught up); closing shows the state it
 * left until the socket has ended: `undefined` here means "unchanged".
 */
export function publicState(phase: Phase): ConnectionState | undefined {
  switch (phase) {
    case 'connecting':
      return 'connecting';
    case 'ready':
    case 'loggingOut':
      return 'ready';
    case 'reconnecting':
    case 'resuming':
      return 'reconnecting';
    case 'closing':
      return undefined;
    case 'closed':
      return 'closed';
  }
}

/** Closing or closed: nothing new starts. */
export function isEnding(phase: Phase): boolean {
  return phase === 'closing' || phase === 'closed';
}
