import { concatBytes, utf8 } from './bytes.js';
import { secretsOf, verifyBundle, type DeviceBundle, type DeviceIdentity } from './device.js';
import { CryptoError } from './errors.js';
import { hkdfSha256, x25519, x25519PrivateKey } from './native.js';
import {
  verifyPrekeyBundle,
  x25519KeyPair,
  type OneTimePrekeyPair,
  type PrekeyBundle,
  type RandomBytes,
  type SignedPrekeyPair,
} from './prekeys.js';

// X3DH (Marlinspike & Perrin, "The X3DH Key Agreement Protocol", 2016), section 3, with:
//   curve X25519; hash SHA-256; info "Hush X3DH v1".
//   IK = the device's X25519 box key for every DH; the device's Ed25519 key signs the box key
//   (DeviceBundle) and the signed prekey, so no XEdDSA is needed.
//   DH1 = DH(IK_A, SPK_B)  DH2 = DH(EK_A, IK_B)  DH3 = DH(EK_A, SPK_B)  [DH4 = DH(EK_A, OPK_B)]
//   SK  = HKDF-SHA-256(ikm = F || DH1 || DH2 || DH3 [|| DH4], salt = 32 zero bytes, info, 32), F = 32 x 0xFF
//   AD  = signKey_A || boxKey_A || signKey_B || boxKey_B (A the initiator, B the responder)

export const X3DH_INFO = 'Hush X3DH v1';
const F = new Uint8Array(32).fill(0xff);
const ZERO_SALT = new Uint8Array(32);

/** What the responder needs from the initiator's first messages to derive the same secret. */
export interface X3dhHeader {
  /** The initiator device's bundle (its signature is checked by the responder). */
  identity: DeviceBundle;
  /** The initiator's ephemeral X25519 key EK_A; it also identifies the session ("base key"). */
  ephemeral: Uint8Array;
  signedPrekeyId: number;
  oneTimePrekeyId?: number;
}

export interface X3dhResult {
  /** SK: 32 bytes, the Double Ratchet's first root key. */
  sharedSecret: Uint8Array;
  /** AD: 128 bytes, bound into every message of the session. */
  associatedData: Uint8Array;
}

/** KDF(KM) of X3DH section 2.2 over the DH outputs, in order. */
export function x3dhKdf(dhOutputs: Uint8Array[]): Uint8Array {
  const ikm = concatBytes(F, ...dhOutputs);
  const sk = hkdfSha256(ikm, ZERO_SALT, utf8(X3DH_INFO), 32);
  ikm.fill(0);
  return sk;
}

export function x3dhAssociatedData(
  initiator: { signKey: Uint8Array; boxKey: Uint8Array },
  responder: { signKey: Uint8Array; boxKey: Uint8Array },
): Uint8Array {
  return concatBytes(initiator.signKey, initiator.boxKey, responder.signKey, responder.boxKey);
}

function derive(dhs: Uint8Array[], ad: Uint8Array): X3dhResult {
  const sharedSecret = x3dhKdf(dhs);
  for (const dh of dhs) dh.fill(0);
  return { sharedSecret, associatedData: ad };
}

/** Initiator side: verifies `peer` entirely, then derives SK with a fresh ephemeral key. */
export function x3dhInitiate(me: DeviceIdentity, peer: PrekeyBundle, random: RandomBytes): X3dhResult & { header: X3dhHeader } {
  verifyPrekeyBundle(peer);
  const ephemeral = x25519KeyPair(random);
  const ek = x25519PrivateKey(ephemeral.secretKey);
  ephemeral.secretKey.fill(0);
  const dhs = [
    x25519(secretsOf(me).boxKey, peer.signedPrekey.publicKey),
    x25519(ek, peer.identity.boxKey),
    x25519(ek, peer.signedPrekey.publicKey),
  ];
  if (peer.oneTimePrekey) dhs.push(x25519(ek, peer.oneTimePrekey.publicKey));
  const header: X3dhHeader = { identity: me.bundle(), ephemeral: ephemeral.publicKey, signedPrekeyId: peer.signedPrekey.id };
  if (peer.oneTimePrekey) header.oneTimePrekeyId = peer.oneTimePrekey.id;
  return { ...derive(dhs, x3dhAssociatedData(me.bundle(), peer.identity)), header };
}

/**
 * Responder side, with the secret halves of the prekeys the header names. Checks the initiator's
 * bundle (BAD_BUNDLE) and every key (LOW_ORDER_POINT).
 */
export function x3dhRespond(
  me: DeviceIdentity,
  header: X3dhHeader,
  signedPrekey: SignedPrekeyPair,
  oneTimePrekey: OneTimePrekeyPair | undefined,
): X3dhResult {
  verifyBundle(header.identity);
  if ((header.oneTimePrekeyId === undefined) !== (oneTimePrekey === undefined)) throw new CryptoError('INVALID_ARGUMENT');
  const spk = x25519PrivateKey(signedPrekey.secretKey);
  const dhs = [x25519(spk, header.identity.boxKey), x25519(secretsOf(me).boxKey, header.ephemeral), x25519(spk, header.ephemeral)];
  if (oneTimePrekey) dhs.push(x25519(x25519PrivateKey(oneTimePrekey.secretKey), header.ephemeral));
  return derive(dhs, x3dhAssociatedData(header.identity, me.bundle()));
}
