// The server's long-term identity: a 32-byte Ed25519 seed kept as base64url text in
// <dataDir>/identity.key, readable by the owner only. Losing it changes the fingerprint every
// client has pinned, so it is created once and never overwritten.
import { chmodSync, closeSync, fsyncSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ServerIdentity } from '@hush/crypto';
import { IdentityFileError } from './errors.js';
import { makeDirs } from './make-dirs.js';

const SEED_TEXT = /^[A-Za-z0-9_-]{43}$/;

/** Loads the identity at `file`, creating it (mode 0600, directory 0700) when missing. */
export function loadOrCreateIdentity(
  file: string,
  platform: NodeJS.Platform = process.platform,
): { identity: ServerIdentity; created: boolean } {
  const existing = loadIdentity(file, platform);
  if (existing) return { identity: existing, created: false };
  makeDirs(dirname(file));
  const identity = ServerIdentity.generate();
  let fd: number;
  try {
    // 'wx': fail if another process created it in the meantime rather than overwrite its key.
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = loadIdentity(file, platform);
      if (raced) return { identity: raced, created: false };
    }
    throw new IdentityFileError(`cannot create identity file ${file}: ${(err as Error).message}`);
  }
  try {
    writeSync(fd, `${Buffer.from(identity.secret).toString('base64url')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  if (platform !== 'win32') chmodSync(file, 0o600); // the umask may have narrowed it further; never wider
  return { identity, created: true };
}

/** Loads an existing identity, or undefined when the file does not exist. Throws on a bad file. */
export function loadIdentity(file: string, platform: NodeJS.Platform = process.platform): ServerIdentity | undefined {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new IdentityFileError(`cannot read identity file ${file}: ${(err as Error).message}`);
  }
  if (platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new IdentityFileError(
      `identity file ${file} is readable by other users (mode ${(mode & 0o777).toString(8).padStart(4, '0')}); ` +
        `it holds the server's private key. Fix it with: chmod 600 ${file}`,
    );
  }
  const text = readFileSync(file, 'utf8').trim();
  if (!SEED_TEXT.test(text)) throw new IdentityFileError(`identity file ${file} is corrupt (expected a 32-byte key as base64url)`);
  return ServerIdentity.fromSecret(new Uint8Array(Buffer.from(text, 'base64url')));
}
