import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileSafe } from './paths.js';

// What this computer keeps for one server (device keys, sessions, room and file keys, cursors, local
// history) lives in <dataDir>/servers/<id>/, where <id> comes from the server's identity key: the key
// the client pins. A new address of the same server (another port, its DNS name, a node of its
// cluster) therefore keeps the device and everything it holds; a server with another key gets none of it.
//
// Clients before this kept it under the first address typed: devices/<host>_<port>/,
// state/<host>_<port>/ and history/<host>_<port>/. Those folders move here at the first connection
// whose verified key is the one pinned for that address.

/** The folders of one server's home. */
export interface ServerHome {
  /** Device keys (<user>.key) and their locks (<user>.lock). */
  readonly devices: string;
  /** Sessions, room keys, file keys, cursors: <user>.*.json. */
  readonly state: string;
  /** Local history, one folder per user. */
  readonly history: string;
}

const PARTS = ['devices', 'state', 'history'] as const;
/** A move in progress: `<id>.from-<old folder name>` (kept on a crash, finished at the next start). */
const MOVING = '.from-';

/** A file-safe name for a server identity: hex of the fingerprint's digest (case-insensitive file systems too). */
export function serverHomeId(fingerprint: string): string {
  const digest = Buffer.from(fingerprint.replace(/^SHA512:/, ''), 'base64');
  if (digest.length < 16) throw new Error(`not a server fingerprint: ${fingerprint}`);
  return digest.subarray(0, 16).toString('hex');
}

/** The old folder name of an address (`host:port` or `[v6]:port`, as known_servers writes it). */
export function legacyDirName(server: string): string | undefined {
  const m = /^\[(.+)\]:(\d+)$/.exec(server) ?? /^([^:]+):(\d+)$/.exec(server);
  return m ? `${fileSafe(m[1]!)}_${m[2]}` : undefined;
}

export function serverHomeAt(dir: string): ServerHome {
  return { devices: join(dir, 'devices'), state: join(dir, 'state'), history: join(dir, 'history') };
}

/**
 * The home of the server with `fingerprint`. On first use it takes over the old per-address
 * folders of the first of `sameKey` (addresses pinned to this very key before this connection,
 * preferred first) that has any: moved whole (never merged with another's), into a staging folder
 * and then renamed into place, so a crash leaves either the old layout or the new one, and the next
 * start finishes a move it finds begun.
 */
export async function openServerHome(dataDir: string, fingerprint: string, sameKey: readonly string[]): Promise<ServerHome> {
  const root = join(dataDir, 'servers');
  const id = serverHomeId(fingerprint);
  const home = join(root, id);
  if (await exists(home)) return serverHomeAt(home);
  const begun = (await readdir(root).catch(() => [] as string[])).find((name) => name.startsWith(`${id}${MOVING}`));
  const from = begun?.slice(id.length + MOVING.length) ?? (await firstLegacy(dataDir, sameKey));
  if (from === undefined) return serverHomeAt(home);
  const staging = join(root, `${id}${MOVING}${from}`);
  await mkdir(staging, { recursive: true, mode: 0o700 });
  for (const part of PARTS) await renameIfThere(join(dataDir, part, from), join(staging, part));
  try {
    await rename(staging, home);
  } catch (error) {
    // Another process finished the same move first.
    if (!(await exists(home))) throw error;
  }
  return serverHomeAt(home);
}

async function firstLegacy(dataDir: string, sameKey: readonly string[]): Promise<string | undefined> {
  for (const server of sameKey) {
    const name = legacyDirName(server);
    if (name === undefined) continue;
    for (const part of PARTS) if (await exists(join(dataDir, part, name))) return name;
  }
  return undefined;
}

async function renameIfThere(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Gone: never there, or moved already (by a run that crashed, or by another process now).
    if (code !== 'ENOENT') throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}
