import { HushError } from './errors.js';

// A direct message on the wire: one Double Ratchet message per device it is for (the recipient's
// devices and the sender's other devices), and the sending device's key so the receiver picks the
// session. The server relays it unread. Layout (PROTOCOL.md, `dm_send`):
//   0xD3 | sender signKey 32 | u8 count | count × (device signKey 32 | u32 BE length | session message)

export const DEVICE_ENVELOPE_VERSION = 0xd3;
const MAX_DEVICES = 255;

export interface DeviceEnvelope {
  sender: Uint8Array;
  /** device signKey (base64url) -> session message for that device */
  messages: Map<string, Uint8Array>;
}

export function encodeDeviceEnvelope(sender: Uint8Array, messages: readonly { signKey: Uint8Array; message: Uint8Array }[]): Uint8Array {
  if (messages.length > MAX_DEVICES) throw new HushError('E2E_NO_DEVICES', 'too many devices for one direct message');
  const size = 34 + messages.reduce((n, m) => n + 36 + m.message.length, 0);
  const out = Buffer.alloc(size);
  out[0] = DEVICE_ENVELOPE_VERSION;
  out.set(sender, 1);
  out[33] = messages.length;
  let at = 34;
  for (const m of messages) {
    out.set(m.signKey, at);
    out.writeUInt32BE(m.message.length, at + 32);
    out.set(m.message, at + 36);
    at += 36 + m.message.length;
  }
  return new Uint8Array(out);
}

/** Undefined when the bytes are not a well-formed envelope. */
export function decodeDeviceEnvelope(bytes: Uint8Array): DeviceEnvelope | undefined {
  if (bytes.length < 34 || bytes[0] !== DEVICE_ENVELOPE_VERSION) return undefined;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const count = view[33]!;
  const messages = new Map<string, Uint8Array>();
  let at = 34;
  for (let i = 0; i < count; i++) {
    if (at + 36 > view.length) return undefined;
    const key = view.subarray(at, at + 32).toString('base64url');
    const length = view.readUInt32BE(at + 32);
    if (at + 36 + length > view.length) return undefined;
    messages.set(key, new Uint8Array(view.subarray(at + 36, at + 36 + length)));
    at += 36 + length;
  }
  if (at !== view.length) return undefined;
  return { sender: new Uint8Array(view.subarray(1, 33)), messages };
}
