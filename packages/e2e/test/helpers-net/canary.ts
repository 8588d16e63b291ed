// Canary search: every encoding in which a secret string could leak (raw UTF-8, base64 and
// base64url at each of the three byte alignments, hex in both cases, UTF-16LE), and scanners for
// byte buffers and for whole directories.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export function makeCanary(label: string): string {
  return `CANARY${label}${randomBytes(9).toString('hex').toUpperCase()}Q`;
}

/**
 * Base64 of `bytes` as it would appear inside a longer base64 text, for a start at byte offset
 * `shift` (0..2) of a 3-byte group: only the characters made of canary bits alone.
 */
function base64Window(bytes: Buffer, shift: number, url: boolean): string {
  const padded = Buffer.concat([Buffer.alloc(shift), bytes]);
  const text = padded.toString(url ? 'base64url' : 'base64').replace(/=+$/, '');
  const startBit = shift * 8;
  const endBit = (shift + bytes.length) * 8;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (i * 6 >= startBit && i * 6 + 6 <= endBit) out += text[i];
  }
  return out;
}

/** Named byte patterns of the canary. */
export function canaryEncodings(canary: string): Array<{ name: string; bytes: Buffer }> {
  const raw = Buffer.from(canary, 'utf8');
  const out: Array<{ name: string; bytes: Buffer }> = [
    { name: 'utf8', bytes: raw },
    { name: 'utf16le', bytes: Buffer.from(canary, 'utf16le') },
    { name: 'hex', bytes: Buffer.from(raw.toString('hex'), 'latin1') },
    { name: 'HEX', bytes: Buffer.from(raw.toString('hex').toUpperCase(), 'latin1') },
  ];
  for (const shift of [0, 1, 2]) {
    out.push({ name: `base64@${shift}`, bytes: Buffer.from(base64Window(raw, shift, false), 'latin1') });
    out.push({ name: `base64url@${shift}`, bytes: Buffer.from(base64Window(raw, shift, true), 'latin1') });
  }
  return out;
}

/** Names of the encodings of `canary` found in `haystack`. */
export function findCanary(haystack: Buffer, canary: string): string[] {
  return canaryEncodings(canary)
    .filter((e) => haystack.includes(e.bytes))
    .map((e) => e.name);
}

/** Every regular file under `dir` with the encodings of the canary found in it. */
export function scanDirectory(dir: string, canary: string): Array<{ file: string; found: string[] }> {
  const hits: Array<{ file: string; found: string[] }> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile()) {
        const found = findCanary(readFileSync(path), canary);
        if (found.length > 0) hits.push({ file: path, found });
      }
    }
  };
  walk(dir);
  return hits;
}
