// Seals direct messages the way the SDK does (@hush/crypto sealDirect around a JSON body), so a
// test can play a peer, or a server that replays and misroutes what peers sealed.
import { randomBytes } from 'node:crypto';
import { encodeSealedDirect, sealDirect, type DeviceBundle, type DeviceIdentity } from '@hush/crypto';
import { b64 } from './raw-client.js';

export interface SealOptions {
  sender: DeviceIdentity;
  recipients: DeviceBundle[];
  from: string;
  to: string;
  seq: number;
  /** A text DM (default) or any body object, e.g. a file offer `{ file: {...} }`. */
  text?: string;
  body?: unknown;
}

/** A sealed DM envelope as base64url, ready for `dm_send` or a forged `dm`. */
export function sealEnvelope(o: SealOptions): string {
  const body = o.body !== undefined ? JSON.stringify(o.body) : JSON.stringify({ text: o.text ?? 'hi', action: false });
  const sealed = sealDirect(o.sender, [...o.recipients, o.sender.bundle()], {
    from: o.from, to: o.to, id: randomBytes(12).toString('base64url'), seq: o.seq, sentAt: Date.now(), body,
  });
  return b64(encodeSealedDirect(sealed));
}
