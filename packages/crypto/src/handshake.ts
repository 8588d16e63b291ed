import type { KeyObject } from 'node:crypto';
import nacl from 'tweetnacl';
import { ByteWriter, concatBytes, constantTimeEqual, isBytes, requireKey, utf8 } from './bytes.js';
import { CryptoError } from './errors.js';
import { fingerprint } from './fingerprint.js';
import {
  ed25519PrivateKey,
  ed25519PublicFromPrivate,
  ed25519Sign,
  ed25519Verify,
  nativeHkdf as hkdf,
  nativeHmacSha512 as hmacSha512,
  nativeSha512 as sha512,
  x25519,
  x25519Generate,
  x25519PrivateKey,
  x25519PublicFromSecret,
} from './native.js';
import { SessionCipher } from './session-cipher.js';

// SIGMA / Noise-NX-like handshake, server authenticated by a pinned Ed25519 key:
//   C→S ClientHello    { versions, ephemeral }
//   S→C ServerHello    { version, versions, ephemeral, identity, signature, finished }
//   C→S ClientFinished { finished }
// transcript = canonical encoding of every hello field; th = SHA-512(transcript).
// signature = Ed25519(identity, SIG_LABEL || th); shared = X25519(eph, eph);
// okm = HKDF(shared, salt = th, KEY_INFO, 160) = c2s | s2c | server-finished | client-finished | sessionId.

export const MAX_VERSIONS = 16;
const TRANSCRIPT_LABEL = 'hush handshake v1';
const SIG_LABEL = utf8('hush handshake signature v1\0');
const KEY_INFO = 'hush handshake keys v1';
const CLIENT_FINISHED_SUFFIX = utf8('client');

export interface ClientHello {
  versions: number[];
  /** Client ephemeral X25519 public key (32 bytes). */
  ephemeral: Uint8Array;
}

export interface ServerHello {
  version: number;
  versions: number[];
  ephemeral: Uint8Array;
  /** Server long-term Ed25519 public key (32 bytes). */
  identity: Uint8Array;
  /** Ed25519 signature over the transcript hash (64 bytes). */
  signature: Uint8Array;
  /** HMAC-SHA512(server-finished key, transcript hash) (64 bytes). */
  finished: Uint8Array;
}

export interface ClientFinished {
  /** HMAC-SHA512(client-finished key, transcript hash || "client") (64 bytes). */
  finished: Uint8Array;
}

export interface HandshakeResult {
  version: number;
  /** 32 bytes, equal on both sides; bind logins to it. */
  sessionId: Uint8Array;
  cipher: SessionCipher;
  serverIdentity: Uint8Array;
  /** fingerprint(serverIdentity): pin it (checkPin) before trusting the session. */
  fingerprint: string;
}

/** Rekey limits handed to the SessionCipher; both peers must use the same values. */
export interface HandshakeCipherOptions {
  rekeyAfterRecords?: number;
  rekeyAfterBytes?: number;
}

// Signing keys live outside the class so no public method is a signing oracle
// for arbitrary messages: the only thing a ServerIdentity signs is a transcript.
const identityKeys = new WeakMap<ServerIdentity, KeyObject>();

export class ServerIdentity {
  readonly publicKey: Uint8Array;
  /** 32-byte Ed25519 seed: persist it (0600) and reload with fromSecret(). */
  readonly secret: Uint8Array;

  private constructor(seed: Uint8Array) {
    this.secret = Uint8Array.from(seed);
    const privateKey = ed25519PrivateKey(this.secret);
    this.publicKey = ed25519PublicFromPrivate(privateKey);
    identityKeys.set(this, privateKey);
  }

  static generate(): ServerIdentity {
    return new ServerIdentity(nacl.randomBytes(32));
  }

  static fromSecret(seed32: Uint8Array): ServerIdentity {
    return new ServerIdentity(requireKey(seed32, 32));
  }

  fingerprint(): string {
    return fingerprint(this.publicKey);
  }
}

function validVersions(value: unknown): value is number[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_VERSIONS) return false;
  const seen = new Set<number>();
  for (const v of value) {
    if (!Number.isInteger(v) || v < 1 || v > 0xffff || seen.has(v)) return false;
    seen.add(v);
  }
  return true;
}

function highestCommon(a: readonly number[], b: readonly number[]): number | undefined {
  let best: number | undefined;
  for (const v of a) if (b.includes(v) && (best === undefined || v > best)) best = v;
  return best;
}

function transcriptHash(
  client: ClientHello,
  version: number,
  serverVersions: readonly number[],
  serverEphemeral: Uint8Array,
  identity: Uint8Array,
): Uint8Array {
  const w = new ByteWriter().string16(TRANSCRIPT_LABEL);
  w.u8(client.versions.length);
  for (const v of client.versions) w.u16(v);
  w.raw(client.ephemeral).u16(version).u8(serverVersions.length);
  for (const v of serverVersions) w.u16(v);
  w.raw(serverEphemeral).raw(identity);
  return sha512(w.finish());
}

interface KeySchedule {
  c2s: Uint8Array;
  s2c: Uint8Array;
  serverFinished: Uint8Array;
  clientFinished: Uint8Array;
  sessionId: Uint8Array;
}

function keySchedule(shared: Uint8Array, th: Uint8Array): KeySchedule {
  const okm = hkdf(shared, th, KEY_INFO, 160);
  shared.fill(0);
  return {
    c2s: okm.slice(0, 32),
    s2c: okm.slice(32, 64),
    serverFinished: okm.slice(64, 96),
    clientFinished: okm.slice(96, 128),
    sessionId: okm.slice(128, 160),
  };
}

function ephemeralKey(testSecret: Uint8Array | undefined): { privateKey: KeyObject; publicKey: Uint8Array } {
  if (testSecret === undefined) return x25519Generate();
  requireKey(testSecret, 32);
  return { privateKey: x25519PrivateKey(testSecret), publicKey: x25519PublicFromSecret(testSecret) };
}

function fail(code: 'HANDSHAKE_FAILED'): never {
  throw new CryptoError(code);
}

export interface ClientHandshakeOptions {
  /** Versions this client speaks (1..16 distinct integers in 1..65535). */
  versions: number[];
  cipher?: HandshakeCipherOptions;
  /** FOR TESTS / vectors only: a fixed ephemeral X25519 secret. */
  ephemeralSecret?: Uint8Array;
}

export class ClientHandshake {
  private state: 'init' | 'sent' | 'done' | 'failed' = 'init';
  private readonly versions: number[];
  private readonly cipherOptions: HandshakeCipherOptions;
  private readonly testSecret: Uint8Array | undefined;
  private ephemeral: { privateKey: KeyObject; publicKey: Uint8Array } | undefined;

  constructor(options: ClientHandshakeOptions) {
    if (!validVersions(options.versions)) throw new CryptoError('INVALID_ARGUMENT');
    this.versions = [...options.versions];
    this.cipherOptions = { ...options.cipher };
    this.testSecret = options.ephemeralSecret;
  }

  start(): ClientHello {
    if (this.state !== 'init') fail('HANDSHAKE_FAILED');
    this.ephemeral = ephemeralKey(this.testSecret);
    this.state = 'sent';
    return { versions: [...this.versions], ephemeral: this.ephemeral.publicKey };
  }

  /** Verifies the ServerHello; on success returns the ClientFinished to send and the session. */
  receive(hello: ServerHello): { finished: ClientFinished; result: HandshakeResult } {
    if (this.state !== 'sent' || this.ephemeral === undefined) fail('HANDSHAKE_FAILED');
    this.state = 'failed'; // until proven otherwise: one attempt per handshake object
    const h = hello as Partial<ServerHello> | null;
    if (
      typeof h !== 'object' ||
      h === null ||
      !Number.isInteger(h.version) ||
      !validVersions(h.versions) ||
      !isBytes(h.ephemeral, 32) ||
      !isBytes(h.identity, 32) ||
      !isBytes(h.signature, 64) ||
      !isBytes(h.finished, 64)
    ) {
      fail('HANDSHAKE_FAILED');
    }
    const { version, versions, ephemeral, identity, signature, finished } = hello;
    // Downgrade protection: the chosen version must be the best one both lists share.
    if (highestCommon(this.versions, versions) !== version) throw new CryptoError('VERSION_MISMATCH');

    const shared = x25519(this.ephemeral.privateKey, ephemeral);
    const th = transcriptHash({ versions: this.versions, ephemeral: this.ephemeral.publicKey }, version, versions, ephemeral, identity);
    if (!ed25519Verify(identity, concatBytes(SIG_LABEL, th), signature)) throw new CryptoError('BAD_SIGNATURE');
    const keys = keySchedule(shared, th);
    if (!constantTimeEqual(hmacSha512(keys.serverFinished, th), finished)) fail('HANDSHAKE_FAILED');

    const clientFinished = hmacSha512(keys.clientFinished, concatBytes(th, CLIENT_FINISHED_SUFFIX));
    const cipher = new SessionCipher({ ...this.cipherOptions, sendKey: keys.c2s, receiveKey: keys.s2c });
    wipe(keys);
    this.ephemeral = undefined;
    this.state = 'done';
    const serverIdentity = Uint8Array.from(identity);
    return {
      finished: { finished: clientFinished },
      result: { version, sessionId: keys.sessionId, cipher, serverIdentity, fingerprint: fingerprint(serverIdentity) },
    };
  }
}

export interface ServerHandshakeOptions {
  identity: ServerIdentity;
  /** Versions this server speaks (1..16 distinct integers in 1..65535). */
  versions: number[];
  cipher?: HandshakeCipherOptions;
  /** FOR TESTS / vectors only: a fixed ephemeral X25519 secret. */
  ephemeralSecret?: Uint8Array;
}

export class ServerHandshake {
  private state: 'init' | 'sent' | 'done' | 'failed' = 'init';
  private readonly identity: ServerIdentity;
  private readonly versions: number[];
  private readonly cipherOptions: HandshakeCipherOptions;
  private readonly testSecret: Uint8Array | undefined;
  private pending: { keys: KeySchedule; th: Uint8Array; version: number } | undefined;

  constructor(options: ServerHandshakeOptions) {
    if (!(options.identity instanceof ServerIdentity) || !validVersions(options.versions)) {
      throw new CryptoError('INVALID_ARGUMENT');
    }
    this.identity = options.identity;
    this.versions = [...options.versions];
    this.cipherOptions = { ...options.cipher };
    this.testSecret = options.ephemeralSecret;
  }

  receive(hello: ClientHello): ServerHello {
    if (this.state !== 'init') fail('HANDSHAKE_FAILED');
    this.state = 'failed';
    const h = hello as Partial<ClientHello> | null;
    if (typeof h !== 'object' || h === null || !validVersions(h.versions) || !isBytes(h.ephemeral, 32)) {
      fail('HANDSHAKE_FAILED');
    }
    const client: ClientHello = { versions: [...hello.versions], ephemeral: Uint8Array.from(hello.ephemeral) };
    const version = highestCommon(client.versions, this.versions);
    if (version === undefined) throw new CryptoError('VERSION_MISMATCH');

    const eph = ephemeralKey(this.testSecret);
    const shared = x25519(eph.privateKey, client.ephemeral);
    const identity = this.identity.publicKey;
    const th = transcriptHash(client, version, this.versions, eph.publicKey, identity);
    const signature = ed25519Sign(identityKeys.get(this.identity) as KeyObject, concatBytes(SIG_LABEL, th));
    const keys = keySchedule(shared, th);
    const finished = hmacSha512(keys.serverFinished, th);
    this.pending = { keys, th, version };
    this.state = 'sent';
    return { version, versions: [...this.versions], ephemeral: eph.publicKey, identity: Uint8Array.from(identity), signature, finished };
  }

  /** Checks the client's Finished MAC; only then is the session established. */
  finish(message: ClientFinished): HandshakeResult {
    if (this.state !== 'sent' || this.pending === undefined) fail('HANDSHAKE_FAILED');
    this.state = 'failed';
    const { keys, th, version } = this.pending;
    this.pending = undefined;
    const m = message as Partial<ClientFinished> | null;
    const expected = hmacSha512(keys.clientFinished, concatBytes(th, CLIENT_FINISHED_SUFFIX));
    if (typeof m !== 'object' || m === null || !isBytes(m.finished, 64) || !constantTimeEqual(expected, m.finished)) {
      wipe(keys);
      fail('HANDSHAKE_FAILED');
    }
    const cipher = new SessionCipher({ ...this.cipherOptions, sendKey: keys.s2c, receiveKey: keys.c2s });
    wipe(keys);
    this.state = 'done';
    const serverIdentity = Uint8Array.from(this.identity.publicKey);
    return { version, sessionId: keys.sessionId, cipher, serverIdentity, fingerprint: fingerprint(serverIdentity) };
  }
}

/** Zeroes the traffic and finished keys (the cipher holds its own copies); sessionId is kept. */
function wipe(keys: KeySchedule): void {
  keys.c2s.fill(0);
  keys.s2c.fill(0);
  keys.serverFinished.fill(0);
  keys.clientFinished.fill(0);
}
