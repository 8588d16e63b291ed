// Presence changes (online, away, status, offline) go to everyone online. Sent one by one, a
// restart's reconnect storm of N users costs N notices to each of N sessions: O(N^2) records and
// memory. Coalesced for a short window (the latest state per user wins) and sent as one shared
// block, it costs one queue entry and one record per session per window instead. The window widens
// with the number of people online (up to a second), so a storm costs at most about 10,000 records
// a second however many reconnect. In a cluster a user is online while online on any node: the
// users of the other nodes are kept here too (`others`), and a change here is told to them.
import type { PresenceState } from '@hush/protocol';
import { type Presence, RemotePresence } from './remote-presence.js';
import type { OnlineUsers } from '../online-users.js';
import type { Session } from './session.js';
import type { Fanout } from './fanout.js';

/** How long presence changes gather before they go out together, with few people online. */
export const PRESENCE_WINDOW_MS = 50;
const MAX_WINDOW_MS = 1000;

/** The window with `online` users: each one is one record per session online. */
export function presenceWindowMs(online: number): number {
  return Math.min(MAX_WINDOW_MS, Math.max(PRESENCE_WINDOW_MS, online / 10));
}

export class PresenceBatch {
  private readonly pending = new Map<string, string>();
  private timer: NodeJS.Timeout | null = null;
  /** Who is online on the other nodes. */
  readonly others = new RemotePresence();

  constructor(
    private readonly online: Pick<OnlineUsers<Session>, 'all' | 'get' | 'size'>,
    private readonly fanout: Pick<Fanout, 'broadcastBlock'>,
    /** Tells the other nodes of a change here. */
    private readonly tell: (user: string, state: PresenceState, status: string) => void = () => undefined,
  ) {}

  /** A user's presence changed on this node (offline: their last session here closed). */
  changed(user: string, state: PresenceState, status: string): void {
    this.tell(user, state, status);
    const elsewhere = state === 'offline' ? this.others.get(user) : undefined;
    this.queue(user, elsewhere ?? { state, status });
  }

  /** Users whose presence changed on other nodes: told as they now are across the cluster (those online here as they are here). */
  remote(users: Iterable<string>): void {
    for (const user of users) if (!this.online.get(user)) this.queue(user, this.of(user));
  }

  /** A user's presence across the cluster. */
  of(name: string): { state: PresenceState; status: string } {
    const here = this.online.get(name);
    return here ? { state: here.state, status: here.status } : (this.others.get(name) ?? { state: 'offline', status: '' });
  }

  private queue(user: string, { state, status }: Presence | { state: PresenceState; status: string }): void {
    this.pending.set(user, JSON.stringify({ type: 'presence', user, state, status }));
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), presenceWindowMs(this.online.size));
    this.timer.unref();
  }

  /** Sends what has gathered (also called at shutdown). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.size === 0) return;
    const lines = [...this.pending.values()];
    this.pending.clear();
    this.fanout.broadcastBlock(lines, this.online.all());
  }
}
