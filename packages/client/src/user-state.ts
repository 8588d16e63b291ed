import { join } from 'node:path';
import { SequenceTracker, type SequenceStatus, type SequenceTrackerState } from '@hush/crypto';
import { compareIds } from './message-ids.js';
import { fileSafe } from './paths.js';
import { readOptional, writePrivateFile } from './secure-fs.js';

// Per server+user end-to-end state, persisted (0600) so a restart neither reuses sequence numbers nor
// forgets which contacts were verified: <server home>/state/<user>.json

interface UserStateFile {
  version: 1;
  /** Next outgoing DM sequence number per peer. */
  sendSeq: Record<string, number>;
  tracker: SequenceTrackerState;
  /** user -> digest of their device key set when verified. */
  verified: Record<string, string>;
  /** user -> digest of the device key set last seen (detects key changes across restarts). */
  seenKeys: Record<string, string>;
  /** This account's device ids last seen (a device added or removed since is said). */
  ownDevices?: string[];
  /** Newest direct message id received or sent (device_login's `since`: the server re-offers what came after). */
  newestDm?: string;
  /** Server time of this device's first login here: no DM older than that was sealed for it. */
  startedAt?: number;
  /** room -> newest message id this client saw there (where catch-up starts after a restart). */
  rooms?: Record<string, string>;
}

const MESSAGE_ID = /^\d{1,20}$/;
/** Room cursors move with every message: written at most this often (and at close). */
const SAVE_DELAY_MS = 500;

export class UserState {
  sendSeq = new Map<string, number>();
  tracker = new SequenceTracker();
  /** Sequence streams this device has seen a message of. */
  private readonly streams = new Set<string>();
  verified = new Map<string, string>();
  seenKeys = new Map<string, string>();
  ownDevices: string[] | undefined;
  newestDm: string | undefined;
  startedAt: number | undefined;
  readonly rooms = new Map<string, string>();
  private saving: Promise<void> = Promise.resolve();
  private saveTimer: NodeJS.Timeout | undefined;

  private constructor(private readonly path: string) {}

  static async load(stateDir: string, user: string): Promise<UserState> {
    const path = join(stateDir, `${fileSafe(user)}.json`);
    const state = new UserState(path);
    const text = await readOptional(path);
    if (text !== undefined) {
      const f = JSON.parse(text) as Partial<UserStateFile>;
      state.sendSeq = new Map(Object.entries(f.sendSeq ?? {}));
      if (f.tracker) {
        state.tracker = SequenceTracker.importState(f.tracker);
        for (const stream of Object.keys(f.tracker.conversations)) state.streams.add(stream);
      }
      state.verified = new Map(Object.entries(f.verified ?? {}));
      state.seenKeys = new Map(Object.entries(f.seenKeys ?? {}));
      if (Array.isArray(f.ownDevices) && f.ownDevices.every((id) => typeof id === 'string')) state.ownDevices = f.ownDevices;
      if (typeof f.newestDm === 'string' && MESSAGE_ID.test(f.newestDm)) state.newestDm = f.newestDm;
      if (typeof f.startedAt === 'number' && Number.isSafeInteger(f.startedAt)) state.startedAt = f.startedAt;
      for (const [room, id] of Object.entries(f.rooms ?? {})) if (typeof id === 'string' && MESSAGE_ID.test(id)) state.rooms.set(room, id);
    }
    return state;
  }

  /** Reserves the next sequence number for a DM to `peer` and persists it before it is used. */
  async nextSeq(peer: string): Promise<number> {
    const seq = (this.sendSeq.get(peer) ?? 0) + 1;
    this.sendSeq.set(peer, seq);
    await this.save();
    return seq;
  }

  /**
   * Gives `seq` back when it is still the last one reserved for `peer`: its DM was refused and never
   * stored, so the next DM takes the number and the receiver sees no gap.
   */
  async releaseSeq(peer: string, seq: number): Promise<void> {
    if (this.sendSeq.get(peer) !== seq) return;
    this.sendSeq.set(peer, seq - 1);
    await this.save();
  }

  /** Records a direct message id received or sent; true when it is the newest yet (worth saving). */
  noteDm(id: string): boolean {
    if (this.newestDm !== undefined && compareIds(id, this.newestDm) <= 0) return false;
    this.newestDm = id;
    return true;
  }

  /**
   * device_login's `since`. A device that has received no DM yet asks from the beginning ("0"): the
   * server moves its cursor when it queues a DM, so a first DM lost in transit (a cut connection, a
   * tampered record) comes back only this way. Older DMs, sealed before this device existed, come
   * along once; see `predates`.
   */
  dmSince(): string {
    return this.newestDm ?? '0';
  }

  /** At a login: the first one (no DM received yet) fixes `startedAt`; true when it changed (worth saving). */
  noteStart(serverTime: number): boolean {
    if (this.newestDm !== undefined || this.startedAt !== undefined) return false;
    this.startedAt = serverTime;
    return true;
  }

  /** True for a DM stored before this device's first login here: one without a message for it is no loss. */
  predates(ts: number): boolean {
    return this.startedAt !== undefined && ts < this.startedAt;
  }

  /** Records the newest message seen in a room; true when it moved (worth saving). */
  noteRoom(room: string, id: string): boolean {
    const current = this.rooms.get(room);
    if (current !== undefined && compareIds(id, current) <= 0) return false;
    this.rooms.set(room, id);
    return true;
  }

  /**
   * Checks a DM's sequence number in its stream (one sending device to one user). The
   * first number this device sees of a stream is its start: a device added to an account later was
   * never sent the earlier messages, so they are not "missing". Gaps and replays after it count.
   */
  checkSequence(stream: string, seq: number): SequenceStatus {
    const first = !this.streams.has(stream);
    this.streams.add(stream);
    const status = this.tracker.check(stream, seq);
    return first && status.status === 'gap' ? { status: 'ok' } : status;
  }

  /** Saves a little later, once for many changes (flush() and save() write it at once). */
  saveSoon(): void {
    if (this.saveTimer !== undefined) return;
    this.saveTimer = setTimeout(() => void this.save().catch(() => undefined), SAVE_DELAY_MS);
    this.saveTimer.unref();
  }

  /** Resolves once every write started so far (and one scheduled by saveSoon) has finished. */
  flush(): Promise<void> {
    if (this.saveTimer !== undefined) void this.save().catch(() => undefined);
    return this.saving.catch(() => undefined);
  }

  /** Serialised writes: the last call's state wins and no two writes interleave. */
  save(): Promise<void> {
    if (this.saveTimer !== undefined) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const file: UserStateFile = {
      version: 1,
      sendSeq: Object.fromEntries(this.sendSeq),
      tracker: this.tracker.exportState(),
      verified: Object.fromEntries(this.verified),
      seenKeys: Object.fromEntries(this.seenKeys),
      ...(this.ownDevices === undefined ? {} : { ownDevices: this.ownDevices }),
      ...(this.newestDm === undefined ? {} : { newestDm: this.newestDm }),
      ...(this.startedAt === undefined ? {} : { startedAt: this.startedAt }),
      rooms: Object.fromEntries(this.rooms),
    };
    const text = `${JSON.stringify(file)}\n`;
    this.saving = this.saving.catch(() => undefined).then(() => writePrivateFile(this.path, text));
    return this.saving;
  }
}
