import { join } from 'node:path';
import { SequenceTracker, type SequenceTrackerState } from '@hush/crypto';
import { compareIds } from './catch-up.js';
import { fileSafe, serverDirName } from './paths.js';
import { readOptional, writePrivateFile } from './secure-fs.js';

// Per server+user end-to-end state, persisted (0600) so a restart neither reuses sequence numbers nor
// forgets which contacts were verified: <dataDir>/state/<host>_<port>/<user>.json

interface UserStateFile {
  version: 1;
  /** Next outgoing DM sequence number per peer. */
  sendSeq: Record<string, number>;
  tracker: SequenceTrackerState;
  /** user -> digest of their device key set when verified. */
  verified: Record<string, string>;
  /** user -> digest of the device key set last seen (detects key changes across restarts). */
  seenKeys: Record<string, string>;
  /** Newest direct message id received or sent (device_login's `since`: the server re-offers what came after). */
  newestDm?: string;
}

export class UserState {
  sendSeq = new Map<string, number>();
  tracker = new SequenceTracker();
  verified = new Map<string, string>();
  seenKeys = new Map<string, string>();
  newestDm: string | undefined;
  private saving: Promise<void> = Promise.resolve();

  private constructor(private readonly path: string) {}

  static async load(dataDir: string, host: string, port: number, user: string): Promise<UserState> {
    const path = join(dataDir, 'state', serverDirName(host, port), `${fileSafe(user)}.json`);
    const state = new UserState(path);
    const text = await readOptional(path);
    if (text !== undefined) {
      const f = JSON.parse(text) as Partial<UserStateFile>;
      state.sendSeq = new Map(Object.entries(f.sendSeq ?? {}));
      if (f.tracker) state.tracker = SequenceTracker.importState(f.tracker);
      state.verified = new Map(Object.entries(f.verified ?? {}));
      state.seenKeys = new Map(Object.entries(f.seenKeys ?? {}));
      if (typeof f.newestDm === 'string' && /^\d{1,20}$/.test(f.newestDm)) state.newestDm = f.newestDm;
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

  /** Records a direct message id received or sent; true when it is the newest yet (worth saving). */
  noteDm(id: string): boolean {
    if (this.newestDm !== undefined && compareIds(id, this.newestDm) <= 0) return false;
    this.newestDm = id;
    return true;
  }

  /** Resolves once every write started so far has finished. */
  flush(): Promise<void> {
    return this.saving.catch(() => undefined);
  }

  /** Serialised writes: the last call's state wins and no two writes interleave. */
  save(): Promise<void> {
    const file: UserStateFile = {
      version: 1,
      sendSeq: Object.fromEntries(this.sendSeq),
      tracker: this.tracker.exportState(),
      verified: Object.fromEntries(this.verified),
      seenKeys: Object.fromEntries(this.seenKeys),
      ...(this.newestDm === undefined ? {} : { newestDm: this.newestDm }),
    };
    const text = `${JSON.stringify(file)}\n`;
    this.saving = this.saving.catch(() => undefined).then(() => writePrivateFile(this.path, text));
    return this.saving;
  }
}
