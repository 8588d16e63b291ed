import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HushError } from './errors.js';
import { fileSafe } from './paths.js';

// One process at a time per device: two processes sharing a device's sessions and sender keys
// overwrite each other's state, and then their messages cannot be opened. The lock is a file beside
// the device key, <user>.lock, holding the owner's pid. It appears whole (written aside, then hard-
// linked into place, which fails when it exists), and one left by a process that is gone (killed,
// crashed) is taken over. Works alike on Linux, macOS and Windows.

interface LockFile {
  pid: number;
  /** When the owner process started: tells this process from an earlier one that had its pid. */
  started: number;
  token: string;
}

const STARTED = Math.round(performance.timeOrigin);

export class DeviceLock {
  private released = false;

  // No exit hook: a lock whose process has ended is taken over by the next one anyway.
  private constructor(
    readonly path: string,
    private readonly token: string,
  ) {}

  /** Takes the lock of `user`'s device in `dir`; HushError('DEVICE_IN_USE') when a live process holds it. */
  static acquire(dir: string, user: string): DeviceLock {
    const path = lockPath(dir, user);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const mine: LockFile = { pid: process.pid, started: STARTED, token: randomBytes(9).toString('base64url') };
    for (let attempt = 0; attempt < 5; attempt++) {
      if (createWhole(path, `${JSON.stringify(mine)}\n`)) return new DeviceLock(path, mine.token);
      const holder = readLock(path);
      if (holder === 'gone') continue;
      if (holder !== 'unreadable' && isAlive(holder)) {
        // A pid the system gave to another program since looks alive too: say what frees the device.
        throw new HushError(
          'DEVICE_IN_USE',
          `a hush client is already running for ${user} on this computer (pid ${holder.pid}); if none is, delete ${path}`,
        );
      }
      takeOverStale(path, holder);
    }
    throw new HushError('DEVICE_IN_USE', `the device lock ${path} keeps changing: another hush client is starting for ${user}`);
  }

  isFor(dir: string, user: string): boolean {
    return !this.released && this.path === lockPath(dir, user);
  }

  /** Frees the lock (idempotent); a lock another process took over meanwhile is left alone. */
  release(): void {
    if (this.released) return;
    this.released = true;
    const holder = readLock(this.path);
    if (typeof holder === 'object' && holder.token === this.token) {
      try {
        unlinkSync(this.path);
      } catch {
        // gone already
      }
    }
  }
}

function lockPath(dir: string, user: string): string {
  return join(dir, `${fileSafe(user.toLowerCase())}.lock`);
}

/** Creates `path` holding `text`, or returns false when it exists. */
function createWhole(path: string, text: string): boolean {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
    // A file system without hard links: exclusive create (the content follows at once).
    try {
      writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
      return true;
    } catch (inner) {
      if ((inner as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw inner;
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing to clean
    }
  }
}

function readLock(path: string): LockFile | 'gone' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const f = JSON.parse(text) as Partial<LockFile>;
    if (typeof f.pid === 'number' && typeof f.started === 'number' && typeof f.token === 'string') return f as LockFile;
  } catch {
    // torn or edited
  }
  return 'unreadable';
}

function isAlive(holder: LockFile): boolean {
  // Our own pid: this very process (another client in it), or an earlier process that had the same pid.
  if (holder.pid === process.pid) return holder.started === STARTED;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's process.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes a stale lock, unless another process replaced it meanwhile (then it is put back). */
function takeOverStale(path: string, stale: LockFile | 'unreadable'): void {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = readLock(aside);
  const same = stale === 'unreadable' ? moved === 'unreadable' : typeof moved === 'object' && moved.token === stale.token;
  if (!same) {
    try {
      linkSync(aside, path);
    } catch {
      // a third process holds it now: its lock stands
    }
  }
  unlinkSync(aside);
}
