// Seals direct messages the way the SDK does (a JSON body inside one Double Ratchet message per
// recipient device, in the 0xD3 device envelope), so a test can play a peer, or a server that
// replays and misroutes what peers sealed.
import { randomBytes } from 'node:crypto';
import { generateOneTimePrekeys, generateSignedPrekey, publicSignedPrekey, RatchetSession, type DeviceIdentity } from '@hush/crypto';
import type { ServerMessageOf } from '@hush/protocol';
import { b64, bundleWire, unb64 } from './raw-client.js';

/** A device's prekey bundle as `prekey_bundles` carries it. */
export type PrekeyBundleWire = ServerMessageOf<'prekey_bundles'>['bundles'][number];

export interface SealOptions {
  from: string;
  to: string;
  seq: number;
  /** A text DM (default) or any body object, e.g. a file offer `{ file: {...} }`. */
  text?: string;
  body?: unknown;
}

/**
 * One test device sending DMs: a session per recipient device, started from its prekey bundle on
 * the first message and kept (ratcheting) for the next ones.
 */
export class DirectSealer {
  private readonly sessions = new Map<string, RatchetSession>();

  constructor(readonly device: DeviceIdentity) {}

  /** A DM envelope as base64url for every device in `recipients`, ready for `dm_send` or a forged `dm`. */
  seal(recipients: readonly PrekeyBundleWire[], o: SealOptions): string {
    const body = o.body !== undefined ? JSON.stringify(o.body) : JSON.stringify({ text: o.text ?? 'hi', action: false });
    const inner = JSON.stringify({
      from: o.from,
      to: o.to,
      id: randomBytes(12).toString('base64url'),
      seq: o.seq,
      sentAt: Date.now(),
      body,
    });
    const parts = recipients.map((r) => {
      let session = this.sessions.get(r.device.signKey);
      if (!session) {
        session = RatchetSession.start(this.device, {
          identity: { signKey: unb64(r.device.signKey), boxKey: unb64(r.device.boxKey), signature: unb64(r.device.signature) },
          signedPrekey: { ...r.signedPrekey, publicKey: unb64(r.signedPrekey.publicKey), signature: unb64(r.signedPrekey.signature) },
          ...(r.oneTimePrekey ? { oneTimePrekey: { id: r.oneTimePrekey.id, publicKey: unb64(r.oneTimePrekey.publicKey) } } : {}),
        });
        this.sessions.set(r.device.signKey, session);
      }
      return { signKey: unb64(r.device.signKey), message: session.encrypt(new TextEncoder().encode(inner)) };
    });
    return b64(encodeEnvelope(this.device.signPublicKey, parts));
  }
}

/** `0xD3 | sender signKey 32 | u8 count | count × (device signKey 32 | u32 BE length | session message)` (PROTOCOL.md). */
function encodeEnvelope(sender: Uint8Array, parts: readonly { signKey: Uint8Array; message: Uint8Array }[]): Uint8Array {
  const chunks: Buffer[] = [Buffer.from([0xd3]), Buffer.from(sender), Buffer.from([parts.length])];
  for (const p of parts) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(p.message.length);
    chunks.push(Buffer.from(p.signKey), length, Buffer.from(p.message));
  }
  return new Uint8Array(Buffer.concat(chunks));
}

const sealers = new WeakMap<DeviceIdentity, DirectSealer>();

/** The one sealer of a test device (its sessions live as long as the device). */
export function sealerOf(device: DeviceIdentity): DirectSealer {
  const sealer = sealers.get(device) ?? new DirectSealer(device);
  sealers.set(device, sealer);
  return sealer;
}

/** A prekey bundle for `device` (signed prekey only, or with a one-time prekey), as a server would hand it out. */
export function prekeyBundleOf(device: DeviceIdentity, o: { oneTime?: boolean } = {}): PrekeyBundleWire {
  const spk = publicSignedPrekey(generateSignedPrekey(device, { id: 1, now: Date.now() }));
  const [otp] = o.oneTime ? generateOneTimePrekeys({ firstId: 1, count: 1 }) : [];
  return {
    device: bundleWire(device),
    signedPrekey: { id: spk.id, createdAt: spk.createdAt, publicKey: b64(spk.publicKey), signature: b64(spk.signature) },
    ...(otp ? { oneTimePrekey: { id: otp.id, publicKey: b64(otp.publicKey) } } : {}),
  };
}
