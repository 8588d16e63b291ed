import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IdentityFileError } from '../src/errors.js';
import { loadIdentity, loadOrCreateIdentity } from '../src/identity-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hush-identity-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const posix = process.platform !== 'win32';

describe('identity file', () => {
  it('creates a 0600 key in a 0700 directory and reuses it', () => {
    const file = join(dir, 'data', 'identity.key');
    const first = loadOrCreateIdentity(file);
    expect(first.created).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    if (posix) {
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
    }
    const second = loadOrCreateIdentity(file);
    expect(second.created).toBe(false);
    expect(second.identity.fingerprint()).toBe(first.identity.fingerprint());
    expect(Buffer.from(second.identity.secret).equals(Buffer.from(first.identity.secret))).toBe(true);
    expect(first.identity.fingerprint()).toMatch(/^SHA512:/);
  });

  it.runIf(posix)('refuses to start when the key is readable by group or others', () => {
    const file = join(dir, 'identity.key');
    loadOrCreateIdentity(file);
    chmodSync(file, 0o644);
    expect(() => loadOrCreateIdentity(file)).toThrow(IdentityFileError);
    expect(() => loadIdentity(file)).toThrow(/readable by other users.*chmod 600/);
    chmodSync(file, 0o640);
    expect(() => loadIdentity(file)).toThrow(IdentityFileError);
    chmodSync(file, 0o600);
    expect(loadIdentity(file)).toBeDefined();
  });

  it('refuses a corrupt key file instead of replacing it', () => {
    const file = join(dir, 'identity.key');
    writeFileSync(file, 'not a key', { mode: 0o600 });
    expect(() => loadOrCreateIdentity(file)).toThrow(/corrupt/);
    expect(readFileSync(file, 'utf8')).toBe('not a key');
  });

  it('returns undefined when there is no key yet', () => {
    expect(loadIdentity(join(dir, 'missing.key'))).toBeUndefined();
  });
});
