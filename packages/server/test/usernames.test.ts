import { describe, expect, it } from 'vitest';
import { normalizeUsername, usernameSkeleton } from '../src/usernames.js';

const ok = (input: string) => {
  const r = normalizeUsername(input);
  if (!r.ok) throw new Error(`expected ${JSON.stringify(input)} to be accepted: ${r.reason}`);
  return r.name;
};
const refused = (input: string) => {
  const r = normalizeUsername(input);
  if (r.ok) throw new Error(`expected ${JSON.stringify(input)} to be refused, got ${r.name}`);
  return r.reason;
};

describe('normalizeUsername', () => {
  it('lower-cases and applies NFKC', () => {
    expect(ok('Alice')).toBe('alice');
    expect(ok('ADMIN')).toBe('admin');
    expect(ok('ａｌｉｃｅ')).toBe('alice'); // fullwidth folds to ASCII under NFKC
    expect(ok('bob_the-2nd')).toBe('bob_the-2nd');
  });

  it('enforces 3..24 characters of [a-z0-9_-]', () => {
    expect(refused('ab')).toMatch(/at least 3/);
    expect(ok('abc')).toBe('abc');
    expect(ok('a'.repeat(24))).toHaveLength(24);
    expect(refused('a'.repeat(25))).toMatch(/at most 24/);
    expect(refused('a'.repeat(65))).toMatch(/too long/);
    expect(refused('')).toMatch(/empty/);
    expect(refused('al ice')).toMatch(/a-z/);
    expect(refused('al.ice')).toMatch(/a-z/);
    expect(refused('alice@x')).toMatch(/a-z/);
  });

  it('refuses Cyrillic and Greek look-alikes', () => {
    expect(refused('\u0430dmin')).toMatch(/a-z/); // Cyrillic а
    expect(refused('p\u0430ypal')).toMatch(/a-z/);
    expect(refused('\u03bfscar')).toMatch(/a-z/); // Greek ο
    expect(refused('ali\u0441e')).toMatch(/a-z/); // Cyrillic с
  });

  it('refuses zero-width, bidi and control characters', () => {
    expect(refused('ad\u200bmin')).toMatch(/invisible/);
    expect(refused('ad\u200dmin')).toMatch(/invisible/);
    expect(refused('\ufeffadmin')).toMatch(/invisible/);
    expect(refused('admin\u202e')).toMatch(/invisible/);
    expect(refused('\u2066admin\u2069')).toMatch(/invisible/);
    expect(refused('ad\u00admin')).toMatch(/invisible/); // soft hyphen
    expect(refused('ad\u0000min')).toMatch(/control/);
    expect(refused('admin\n')).toMatch(/control/);
    expect(refused('ad\u0085min')).toMatch(/control/);
    expect(refused('ad\u001b[31mmin')).toMatch(/control/);
  });

  it('refuses combining marks and other non-ASCII that survive NFKC', () => {
    expect(refused('admi\u0301n')).toMatch(/a-z/);
    expect(refused('İstanbul')).toMatch(/a-z/); // dotted capital I lower-cases to i + combining dot
    expect(refused('名前です')).toMatch(/a-z/);
  });
});

describe('usernameSkeleton', () => {
  it('collides look-alike spellings', () => {
    const admin = usernameSkeleton('admin');
    for (const other of ['adm1n', 'admln', 'ad_min', 'ad-min', 'adrnin', 'a_d_m_1_n']) {
      expect(usernameSkeleton(other), other).toBe(admin);
    }
    expect(usernameSkeleton(ok('Admin'))).toBe(admin);
    expect(usernameSkeleton('b0b')).toBe(usernameSkeleton('bob'));
    expect(usernameSkeleton('vvalter')).toBe(usernameSkeleton('walter'));
    expect(usernameSkeleton('cloe')).toBe(usernameSkeleton('doe'));
    expect(usernameSkeleton('5am')).toBe(usernameSkeleton('sam'));
  });

  it('keeps different names apart', () => {
    expect(usernameSkeleton('alice')).not.toBe(usernameSkeleton('alicia'));
    expect(usernameSkeleton('bob')).not.toBe(usernameSkeleton('rob'));
    expect(usernameSkeleton('admin')).not.toBe(usernameSkeleton('admins'));
  });
});
