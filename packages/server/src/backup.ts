// `hushd backup DIR`: a restorable copy of a SQLite data directory, taken while hushd runs. The
// database goes through SQLite's online backup (a consistent snapshot, whatever is written
// meanwhile, with no sqlite3 program needed); identity.key and hushd.json are copied beside it.
import { chmodSync, closeSync, constants, copyFileSync, existsSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ServerDataError } from './errors.js';
import { makeDirs } from './make-dirs.js';
import { dataPaths, DATABASE_FILE, IDENTITY_FILE, CONFIG_FILE } from './paths.js';

/**
 * Writes hush.db, identity.key and (when there is one) hushd.json of `dataDir` into `target`,
 * a new or empty directory (created owner-only); never overwrites anything. Returns the files
 * written with their sizes.
 */
export async function backupDataDir(dataDir: string, target: string): Promise<{ file: string; bytes: number }[]> {
  if (existsSync(target) && (!statSync(target).isDirectory() || readdirSync(target).length > 0)) {
    throw new ServerDataError(`${target} already exists and is not an empty directory: a backup never overwrites anything`);
  }
  makeDirs(target);
  const paths = dataPaths(dataDir);
  const source = new Database(paths.database, { readonly: true, fileMustExist: true });
  try {
    // Created owner-only before SQLite writes it, whatever the umask: it holds every password hash.
    closeSync(openSync(join(target, DATABASE_FILE), 'wx', 0o600));
    await source.backup(join(target, DATABASE_FILE));
  } finally {
    source.close();
  }
  const written = [DATABASE_FILE];
  for (const [from, name] of [
    [paths.identity, IDENTITY_FILE],
    [paths.config, CONFIG_FILE],
  ] as const) {
    if (!existsSync(from)) continue;
    copyFileSync(from, join(target, name), constants.COPYFILE_EXCL);
    // Owner-only whatever the original's mode (a hushd.json may name a store with its password).
    if (process.platform !== 'win32') chmodSync(join(target, name), 0o600);
    written.push(name);
  }
  return written.map((name) => ({ file: join(target, name), bytes: statSync(join(target, name)).size }));
}
