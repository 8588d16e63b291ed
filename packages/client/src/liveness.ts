// Whether the connection is alive, judged from what went out and what came back. Idle, a silent
// server is normal: a ping after a while, given up after a long while. Waiting for a reply (a line
// just sent), silence is not: the ping goes sooner and the connection is given up sooner, so that a
// network that died under a person's line is noticed in seconds, not the better part of a minute
// (the server answers a ping at once, even behind a request that waits for its store).

export interface LivenessLimits {
  /** Idle: a ping once the server has been silent this long (and again as often). */
  idlePingMs: number;
  /** Idle: dead once silent this long. */
  idleDeadMs: number;
  /** Waiting for a reply: a ping once nothing has come back for this long. */
  waitingPingMs: number;
  /** Waiting for a reply: dead once nothing has come back for this long. */
  waitingDeadMs: number;
}

export const LIVENESS_LIMITS: LivenessLimits = { idlePingMs: 15_000, idleDeadMs: 45_000, waitingPingMs: 5_000, waitingDeadMs: 20_000 };

/** How often the connection asks check(): fine enough for the shortest limit. */
export const LIVENESS_TICK_MS = 2_500;

export type LivenessVerdict = 'alive' | 'ping' | 'dead';

export class Liveness {
  private lastHeard: number;
  /** Since when a reply is due with nothing heard (undefined: none due). */
  private waitingSince: number | undefined;
  private lastPing: number | undefined;

  constructor(
    now: number,
    private readonly limits: LivenessLimits = LIVENESS_LIMITS,
  ) {
    this.lastHeard = now;
  }

  /** A frame the server answers went out. */
  asked(now: number): void {
    this.waitingSince ??= now;
  }

  /** A frame came in; `waiting`: replies are still due (they count from now). */
  heard(now: number, waiting: boolean): void {
    this.lastHeard = now;
    this.waitingSince = waiting ? now : undefined;
    this.lastPing = undefined;
  }

  /** What the connection should do now; a 'ping' verdict counts as sent. */
  check(now: number): LivenessVerdict {
    const l = this.limits;
    const waited = this.waitingSince === undefined ? 0 : now - this.waitingSince;
    if (now - this.lastHeard >= l.idleDeadMs || waited >= l.waitingDeadMs) return 'dead';
    const pingDue =
      this.lastPing === undefined ? now - this.lastHeard >= l.idlePingMs || waited >= l.waitingPingMs : now - this.lastPing >= l.idlePingMs;
    if (!pingDue) return 'alive';
    this.lastPing = now;
    return 'ping';
  }
}
