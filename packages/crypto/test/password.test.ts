import { describe, expect, it } from 'vitest';
import { hashPassword, passwordNeedsRehash, verifyPassword } from '../src/index.js';

const fast = { N: 1024, r: 8, p: 1 };

describe('passwords (scrypt)', () => {
  it('stores a self-describing record and verifies the right password only', async () => {
    const stored = await hashPassword('correct horse', fast);
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsE', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('salts: the same password hashes differently', async () => {
    expect(await hashPassword('pw', fast)).not.toBe(await hashPassword('pw', fast));
  });

  it('refuses malformed or tampered records (false, never a throw)', async () => {
    const stored = await hashPassword('pw', fast);
    const parts = stored.split('$');
    const tampered = [...parts.slice(0, 5), Buffer.alloc(32).toString('base64')].join('$');
    for (const bad of [
      '',
      'scrypt$',
      'bcrypt$1024$8$1$aa$bb',
      stored.replace('$1024$', '$1000$'),
      stored.replace('$1024$', '$2097152$'),
      tampered,
      `${stored}x`,
    ]) {
      expect(await verifyPassword('pw', bad)).toBe(false);
    }
  });

  it('uses N=2^17, r=8, p=1 by default and flags weaker records for rehash', async () => {
    expect(passwordNeedsRehash(await hashPassword('pw', fast))).toBe(true);
    const strong = await hashPassword('pw');
    expect(strong.startsWith('scrypt$131072$8$1$')).toBe(true);
    expect(passwordNeedsRehash(strong)).toBe(false);
    expect(await verifyPassword('pw', strong)).toBe(true);
  });

  it('refuses bad parameters', async () => {
    await expect(hashPassword('pw', { N: 1000 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(hashPassword('pw', { N: 2 ** 24 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
