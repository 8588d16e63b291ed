// One hushd per SQLite data directory. Two daemons on one hush.db would both accept logins and
// write the same file (the second's in-memory state knowing nothing of the first's), so a start
// takes <dataDir>/hushd.lock first and holds it for the life of the process.
//
// The lock is SQLite's own (better-sqlite3 is already here): hushd.lock is a tiny database opened
// in EXCLUSIVE locking mode and written once, so its connection keeps an exclusive OS lock (fcntl
// on Unix, LockFileEx on Windows) until it closes. The OS drops that lock when the process ends in
// any way, kill -9 included: the file left behind is never stale, and no pid is trusted to decide
// anything. The write stores the holder's pid in the header's user_version (offset 60) and where
// that pid means something (machine and pid namespace) in its application_id (offset 68), which a
// refused start reads to name the other process. The admin commands share hush.db with the running
// daemon (as WAL allows) and only look, read-only, whether the lock is held (dataDirHolder).
import { createHash } from 'node:crypto';
import { closeSync, openSync, readlinkSync, readSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { ServerDataError } from './errors.js';

export const LOCK_FILE = 'hushd.lock';

/** How long a start keeps asking when another process is taking or letting go of the lock at that moment. */
const ATTEMPT_FOR_MS = 1000;
const RETRY_MS = 50;

/**
 * Lock files this process holds, by device and inode (a path through a symlink is the same file).
 * POSIX locks belong to the process, and closing any descriptor of a file drops every lock the
 * process has on it: a second daemon in the same process (a library user, a test) must be refused
 * without opening the file, or its attempt would free the first's.
 */
const heldHere = new Set<string>();

/** The held lock: `release` closes it (the next start may take it at once). */
export interface DataDirLock {
  readonly file: string;
  release(): void;
}

/**
 * Takes the data directory's lock or throws ServerDataError naming the directory (and the other
 * hushd's pid when it is still running). The directory must exist.
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const file = resolve(dataDir, LOCK_FILE);
  const deadline = Date.now() + ATTEMPT_FOR_MS;
  createOwnerOnly(file);
  const key = fileKey(file);
  while (!heldHere.has(key)) {
    const db = tryLock(file, process.pid);
    if (db) {
      heldHere.add(key);
      let open = true;
      return {
        file,
        release: () => {
          if (open) {
            db.close();
            heldHere.delete(key);
          }
          open = false;
        },
      };
    }
    // A second hushd starting at the same moment may hold a passing lock: ask again for a moment
    // (each failed attempt closes its connection, so two of them never block each other for long).
    if (Date.now() >= deadline) break;
    await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
  }
  const other = heldHere.has(key) ? process.pid : holderPid(file);
  throw new ServerDataError(
    `${dataDir} is in use by another hushd${other === undefined ? '' : ` (pid ${other})`}: ` +
      'stop it first, or give this one its own --data-dir (the admin commands, such as hushd user add, work beside a running hushd)',
  );
}

/**
 * Creates the lock file owner-only (whatever the umask of a process that embeds the daemon), as
 * every file here. Only a new file is opened outside SQLite (see heldHere): 'wx' fails on an
 * existing one without opening it.
 */
function createOwnerOnly(file: string): void {
  try {
    closeSync(openSync(file, 'wx', 0o600));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw new ServerDataError(`cannot lock ${file} (${(err as Error).message})${ownerHint((err as { code?: unknown }).code)}`, {
      cause: err,
    });
  }
}

function fileKey(file: string): string {
  const { dev, ino } = statSync(file);
  return `${dev}:${ino}`;
}

function ownerHint(code: unknown): string {
  return typeof code === 'string' && /^(SQLITE_(CANTOPEN|READONLY|PERM)|EACCES|EPERM|EROFS)/.test(code)
    ? ': run as the user that owns the data directory'
    : '';
}

/** The locked connection, or undefined when another process holds the lock. */
function tryLock(file: string, pid: number): Database.Database | undefined {
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: 0 });
    // No journal file beside it (the mode is set before the locking mode, or it does not take):
    // after the file's creation, the one write changes header fields only.
    db.pragma('journal_mode = MEMORY');
    db.pragma('synchronous = OFF');
    db.pragma('locking_mode = EXCLUSIVE');
    // The write takes the exclusive lock; EXCLUSIVE mode keeps it until close.
    db.exec(`BEGIN EXCLUSIVE; PRAGMA user_version = ${pid}; PRAGMA application_id = ${pidSpace()}; COMMIT`);
    return db;
  } catch (err) {
    db?.close();
    const code = (err as { code?: unknown }).code;
    if (code === 'SQLITE_BUSY') return undefined;
    if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
      throw new ServerDataError(`${file} is damaged (it holds no data): remove it, once sure no hushd runs on this directory`, {
        cause: err,
      });
    }
    throw new ServerDataError(`cannot lock ${file} (${(err as Error).message})${ownerHint(code)}`, { cause: err });
  }
}

/**
 * This machine and pid namespace as a 31-bit number: a pid written by a hushd in another container
 * sharing the directory names some other process here.
 */
function pidSpace(): number {
  let namespace = '';
  try {
    namespace = readlinkSync('/proc/self/ns/pid');
  } catch {
    // no /proc (macOS, Windows): the host name alone
  }
  return createHash('sha256').update(`${hostname()}\0${namespace}`).digest().readUInt32BE(0) >>> 1;
}

/**
 * The pid the lock's holder wrote, if it was written in this pid space and that process is alive.
 * Read from the file's bytes (the OS lock is on bytes SQLite reserves beyond them): a holder that
 * has just taken the lock may not have written its own yet, so a pid of a process that no longer
 * runs is not named.
 */
function holderPid(file: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const header = Buffer.alloc(72);
    if (readSync(fd, header, 0, 72, 0) < 72 || header.toString('latin1', 0, 16) !== 'SQLite format 3\0') return undefined;
    const pid = header.readUInt32BE(60);
    if (header.readUInt32BE(68) !== pidSpace()) return undefined;
    return pid > 0 && isRunning(pid) ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/**
 * Whether a hushd holds the data directory's lock now, and its pid when it can be told (see
 * holderPid); null when none does. Read-only: the lock file is neither created nor written (an
 * admin command run as root must not leave a root-owned hushd.lock the service cannot open).
 */
export function dataDirHolder(dataDir: string): { pid: number | undefined } | null {
  const file = join(dataDir, LOCK_FILE);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 });
    db.pragma('user_version'); // a read needs a shared lock, which the holder's exclusive one refuses
    return null;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') return { pid: holderPid(file) };
    return null; // no lock file (no hushd has run here since it had one), or one nobody could hold
  } finally {
    db?.close();
  }
}
