import {
  DeviceIdentity,
  RatchetSession,
  generateOneTimePrekeys,
  generateSignedPrekey,
  publicSignedPrekey,
  type OneTimePrekeyPair,
  type PrekeyBundle,
  type PrekeyLookup,
  type SignedPrekeyPair,
} from '../src/index.js';

export const T0 = 1_800_000_000_000;
const enc = new TextEncoder();
const dec = new TextDecoder();
export const text = (s: string): Uint8Array => enc.encode(s);
export const str = (b: Uint8Array): string => dec.decode(b);

/** A device with its prekey store, as the client will keep it. */
export class TestDevice {
  readonly identity = DeviceIdentity.generate();
  readonly signedPrekeys = new Map<number, SignedPrekeyPair>();
  readonly oneTimePrekeys = new Map<number, OneTimePrekeyPair>();
  private nextSignedId = 1;

  constructor(oneTimeCount = 5, now = T0) {
    this.rotate(now);
    for (const k of generateOneTimePrekeys({ firstId: 1000, count: oneTimeCount })) this.oneTimePrekeys.set(k.id, k);
  }

  rotate(now: number): SignedPrekeyPair {
    const spk = generateSignedPrekey(this.identity, { id: this.nextSignedId++, now });
    this.signedPrekeys.set(spk.id, spk);
    return spk;
  }

  get lookup(): PrekeyLookup {
    return { signedPrekey: (id) => this.signedPrekeys.get(id), oneTimePrekey: (id) => this.oneTimePrekeys.get(id) };
  }

  /** What the server hands out: the newest signed prekey and one one-time prekey (removed, as the server does). */
  bundle(): PrekeyBundle {
    const newest = [...this.signedPrekeys.values()].sort((a, b) => b.createdAt - a.createdAt || b.id - a.id)[0]!;
    const bundle: PrekeyBundle = { identity: this.identity.bundle(), signedPrekey: publicSignedPrekey(newest) };
    const otp = [...this.oneTimePrekeys.values()].find((k) => !this.handedOut.has(k.id));
    if (otp) {
      this.handedOut.add(otp.id);
      bundle.oneTimePrekey = { id: otp.id, publicKey: otp.publicKey };
    }
    return bundle;
  }

  private readonly handedOut = new Set<number>();

  /** Accepts a session start and deletes the used one-time prekey, as the client must. */
  accept(message: Uint8Array, now = T0): { session: RatchetSession; plaintext: Uint8Array } {
    const { session, plaintext, oneTimePrekeyId } = RatchetSession.accept(this.identity, message, this.lookup, { now });
    if (oneTimePrekeyId !== undefined) this.oneTimePrekeys.delete(oneTimePrekeyId);
    return { session, plaintext };
  }
}

/** Alice starts a session with Bob; Bob accepts her first message. */
export function pair(options: { oneTime?: boolean } = {}): { alice: TestDevice; bob: TestDevice; a: RatchetSession; b: RatchetSession } {
  const alice = new TestDevice();
  const bob = new TestDevice(options.oneTime === false ? 0 : 5);
  const a = RatchetSession.start(alice.identity, bob.bundle());
  const { session: b, plaintext } = bob.accept(a.encrypt(text('hello bob')));
  if (str(plaintext) !== 'hello bob') throw new Error('first message did not open');
  return { alice, bob, a, b };
}

export const open = (s: RatchetSession, m: Uint8Array, now = T0): string => str(s.decrypt(m, { now }));
