import nacl from 'tweetnacl';
import { base64, concatBytes, isBytes, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';

// Human-facing key fingerprints: SSH-like text, digits to read aloud, and
// Signal-style safety numbers.

/** `SHA512:<unpadded base64 of the first 32 bytes of SHA-512(key)>`, like `ssh-keygen -l`. */
export function fingerprint(identityPublicKey: Uint8Array): string {
  if (!isBytes(identityPublicKey, 32)) throw new CryptoError('BAD_KEY');
  return `SHA512:${base64(nacl.hash(identityPublicKey).subarray(0, 32)).replace(/=+$/, '')}`;
}

/** 30 bytes → 6 groups of 5 digits: each 5-byte chunk as a big-endian integer mod 100000. */
function digitGroups(bytes: Uint8Array, groups: number): string[] {
  const out: string[] = [];
  for (let g = 0; g < groups; g++) {
    let n = 0;
    for (let i = 0; i < 5; i++) n = n * 256 + (bytes[g * 5 + i] as number);
    out.push(String(n % 100_000).padStart(5, '0'));
  }
  return out;
}

/** Six groups of five digits (e.g. "01234 56789 ..."), for reading a server key aloud. */
export function shortFingerprint(identityPublicKey: Uint8Array): string {
  if (!isBytes(identityPublicKey, 32)) throw new CryptoError('BAD_KEY');
  const digest = nacl.hash(concatBytes(utf8('hush short fingerprint v1\0'), identityPublicKey));
  return digitGroups(digest, 6).join(' ');
}

/** Trust on first use: compare a presented fingerprint with the pinned one (if any). */
export function checkPin(known: string | undefined, presented: string): 'new' | 'match' | 'changed' {
  if (known === undefined) return 'new';
  return known === presented ? 'match' : 'changed';
}

export const SAFETY_NUMBER_ITERATIONS = 5200;

/** Signal's displayable-fingerprint half: 30 digits for one (user, key). */
function safetyHalf(user: string, signKey: Uint8Array): string {
  // As Signal: hash = version(2) || key || id, then 5200 × hash = SHA-512(hash || key).
  let hash = concatBytes(Uint8Array.of(0, 0), signKey, utf8(user));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = nacl.hash(concatBytes(hash, signKey));
  return digitGroups(hash, 6).join('');
}

/**
 * Safety number for a conversation: 60 digits in 12 groups of 5, the same
 * whichever side computes it (the two halves are sorted).
 */
export function safetyNumber(userA: string, signKeyA: Uint8Array, userB: string, signKeyB: Uint8Array): string {
  if (!isBytes(signKeyA, 32) || !isBytes(signKeyB, 32)) throw new CryptoError('BAD_KEY');
  const halves = [safetyHalf(userA, signKeyA), safetyHalf(userB, signKeyB)].sort();
  return (halves.join('').match(/.{5}/g) as string[]).join(' ');
}
