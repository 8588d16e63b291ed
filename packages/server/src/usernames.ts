// Username rules: one canonical spelling per account, and no account that merely looks like another.

export const USERNAME_PATTERN = /^[a-z0-9_-]{3,24}$/;
const MAX_INPUT_LENGTH = 64;

// Characters refused outright, before normalisation, so that they are reported as such rather than
// as "not ASCII": C0/C1 controls, zero-width and joiners, bidi embeddings/overrides/isolates, BOM,
// the soft hyphen, and other default-ignorable format characters NFKC keeps.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const INVISIBLE =
  // biome-ignore lint/suspicious/noMisleadingCharacterClass: each code point is listed alone on purpose (combining and joiner marks refused one by one)
  /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0]/;

export type NormalizedUsername = { ok: true; name: string } | { ok: false; reason: string };

/** NFKC + lower case; then it must be ASCII [a-z0-9_-], 3..24 characters. */
export function normalizeUsername(input: string): NormalizedUsername {
  if (typeof input !== 'string' || input.length === 0) return { ok: false, reason: 'username is empty' };
  if (input.length > MAX_INPUT_LENGTH) return { ok: false, reason: 'username is too long' };
  if (CONTROL.test(input)) return { ok: false, reason: 'username contains control characters' };
  if (INVISIBLE.test(input)) return { ok: false, reason: 'username contains invisible or bidirectional characters' };
  const name = input.normalize('NFKC').toLowerCase();
  if (CONTROL.test(name) || INVISIBLE.test(name)) {
    return { ok: false, reason: 'username contains invisible or bidirectional characters' };
  }
  if (/[^\u0000-\u007f]/.test(name)) return { ok: false, reason: 'username must use only a-z, 0-9, _ and -' };
  if (name.length < 3) return { ok: false, reason: 'username must be at least 3 characters' };
  if (name.length > 24) return { ok: false, reason: 'username must be at most 24 characters' };
  if (!USERNAME_PATTERN.test(name)) return { ok: false, reason: 'username must use only a-z, 0-9, _ and -' };
  return { ok: true, name };
}

// Single characters that read as another in common fonts.
const CHAR_FOLD: Record<string, string> = { '0': 'o', '1': 'l', i: 'l', '5': 's', '2': 'z', '8': 'b', '9': 'g', q: 'g' };
// Letter pairs that read as one letter.
const PAIR_FOLD: [RegExp, string][] = [
  [/rn/g, 'm'],
  [/vv/g, 'w'],
  [/cl/g, 'd'],
];

/**
 * Look-alike key for a canonical username: registration refuses a name whose skeleton equals an
 * existing user's ("adm1n", "admln", "ad_min" all collide with "admin"). Deliberately broad:
 * a false positive only asks a newcomer to pick another name.
 */
export function usernameSkeleton(name: string): string {
  let s = name.normalize('NFKC').toLowerCase().replace(/[_-]/g, '');
  s = Array.from(s, (c) => CHAR_FOLD[c] ?? c).join('');
  for (const [re, to] of PAIR_FOLD) s = s.replace(re, to);
  // "rn" folding can expose a new pair only in pathological inputs; one more pass settles it.
  for (const [re, to] of PAIR_FOLD) s = s.replace(re, to);
  return s;
}
