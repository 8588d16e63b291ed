import type { DeviceBundle } from '@hush/crypto';
import type { DeviceBundleWire } from '@hush/protocol';

/** Binary fields travel as unpadded base64url. */
export const b64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('base64url');
export const unb64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64url'));

export function bundleToWire(b: DeviceBundle): DeviceBundleWire {
  return { signKey: b64(b.signKey), boxKey: b64(b.boxKey), signature: b64(b.signature) };
}

export function bundleFromWire(w: DeviceBundleWire): DeviceBundle {
  return { signKey: unb64(w.signKey), boxKey: unb64(w.boxKey), signature: unb64(w.signature) };
}
