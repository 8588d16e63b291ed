import sodium from 'libsodium-wrappers';

// ChaCha20-Poly1305 (IETF) for small records through libsodium's WebAssembly exports directly.
// The wrappers' functions copy every argument into fresh WebAssembly allocations and return a new
// array each time, most of the cost on a small record. Here one fixed scratch area holds key, nonce, header and text, and the result is copied straight
// into the caller's buffer: no allocation but the plaintext an open returns.

/** The few exports of libsodium's Emscripten module used here (`sodium.libsodium`). */
export interface SodiumModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  // 64-bit lengths are passed as two 32-bit halves (low, high).
  _crypto_aead_chacha20poly1305_ietf_encrypt(
    c: number,
    clenP: number,
    m: number,
    mlen: number,
    mlenHigh: number,
    ad: number,
    adlen: number,
    adlenHigh: number,
    nsec: number,
    npub: number,
    k: number,
  ): number;
  _crypto_aead_chacha20poly1305_ietf_decrypt(
    m: number,
    mlenP: number,
    nsec: number,
    c: number,
    clen: number,
    clenHigh: number,
    ad: number,
    adlen: number,
    adlenHigh: number,
    npub: number,
    k: number,
  ): number;
}

export interface SmallAead {
  readonly maxPlaintext: number;
  /** Writes ciphertext || tag of `plaintext` into `into` (at least plaintext.length + 16 bytes). */
  seal(key: Uint8Array, ad: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, into: Uint8Array): void;
  /** The plaintext of ciphertext || tag, or null when it does not authenticate. */
  open(key: Uint8Array, ad: Uint8Array, nonce: Uint8Array, sealed: Uint8Array): Buffer | null;
}

const TAG = 16;
const KEY_AT = 0;
const NONCE_AT = 32;
const AD_AT = 48;
const MAX_AD = 32;
const INPUT_AT = AD_AT + MAX_AD;

/** A SmallAead over `mod`, or null when the module lacks what it needs (the caller keeps node:crypto). */
export function createSmallAead(mod: Partial<SodiumModule> | undefined, maxPlaintext: number): SmallAead | null {
  if (
    !mod ||
    !(mod.HEAPU8 instanceof Uint8Array) ||
    typeof mod._malloc !== 'function' ||
    typeof mod._crypto_aead_chacha20poly1305_ietf_encrypt !== 'function' ||
    typeof mod._crypto_aead_chacha20poly1305_ietf_decrypt !== 'function'
  ) {
    return null;
  }
  const m = mod as SodiumModule;
  const span = maxPlaintext + TAG;
  const base = m._malloc(INPUT_AT + 2 * span);
  if (!base) return null;
  const key = base + KEY_AT;
  const nonce = base + NONCE_AT;
  const ad = base + AD_AT;
  const input = base + INPUT_AT;
  const output = input + span;

  // The heap view is read on every call: WebAssembly memory growth replaces it.
  const load = (k: Uint8Array, a: Uint8Array, n: Uint8Array, text: Uint8Array): Uint8Array => {
    if (k.length !== 32 || n.length !== 12 || a.length > MAX_AD || text.length > span) throw new RangeError('small AEAD: bad sizes');
    const heap = m.HEAPU8;
    heap.set(k, key);
    heap.set(n, nonce);
    heap.set(a, ad);
    heap.set(text, input);
    return heap;
  };
  // Key and text do not stay in the scratch area after a call.
  const wipe = (heap: Uint8Array, textLength: number): void => {
    heap.fill(0, key, key + 32);
    heap.fill(0, input, input + textLength);
    heap.fill(0, output, output + textLength);
  };

  return {
    maxPlaintext,
    seal(k, a, n, plaintext, into) {
      if (plaintext.length > maxPlaintext) throw new RangeError('small AEAD: plaintext too large');
      load(k, a, n, plaintext);
      m._crypto_aead_chacha20poly1305_ietf_encrypt(output, 0, input, plaintext.length, 0, ad, a.length, 0, 0, nonce, key);
      const heap = m.HEAPU8;
      into.set(heap.subarray(output, output + plaintext.length + TAG));
      wipe(heap, plaintext.length + TAG);
    },
    open(k, a, n, sealed) {
      if (sealed.length < TAG || sealed.length > span) throw new RangeError('small AEAD: bad record size');
      load(k, a, n, sealed);
      const length = sealed.length - TAG;
      const rc = m._crypto_aead_chacha20poly1305_ietf_decrypt(output, 0, 0, input, sealed.length, 0, ad, a.length, 0, nonce, key);
      const heap = m.HEAPU8;
      const plaintext = rc === 0 ? Buffer.from(heap.subarray(output, output + length)) : null;
      wipe(heap, sealed.length);
      return plaintext;
    },
  };
}

/** Loads libsodium; resolves to null if it cannot be used. */
export async function loadSmallAead(maxPlaintext: number): Promise<SmallAead | null> {
  await sodium.ready;
  return createSmallAead((sodium as unknown as { libsodium?: Partial<SodiumModule> }).libsodium, maxPlaintext);
}
