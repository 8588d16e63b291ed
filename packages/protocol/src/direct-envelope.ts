// A direct message's envelope (PROTOCOL.md, `dm_send`): the sending device, then one entry per
// device the message is for, each an opaque session message. The server reads only this framing
// (to check it and to hand each device its own entry); each device opens its own entry.
//   0xD3 | sender signKey 32 | u8 count | count × (device signKey 32 | u32 BE length | message)
import { fromBase64Url } from './wire.js';

export const DIRECT_ENVELOPE_TAG = 0xd3;
/** Entries one envelope can hold (its count is one byte). */
export const MAX_ENVELOPE_DEVICES = 255;

const KEY = 32;
const HEAD = 1 + KEY + 1;
const ENTRY_HEAD = KEY + 4;

/** One device's entry: its sign key and the session message for it. */
export interface DirectEnvelopeEntry {
  device: Uint8Array;
  message: Uint8Array;
}

export interface DirectEnvelope {
  /** Sign key of the sending device. */
  sender: Uint8Array;
  /** Device sign key (base64url) -> the session message for that device (a view into the parsed bytes). */
  entries: Map<string, Uint8Array>;
}

/** The envelope bytes; throws RangeError for more than 255 entries or a key that is not 32 bytes. */
export function encodeDirectEnvelope(sender: Uint8Array, entries: readonly DirectEnvelopeEntry[]): Uint8Array {
  if (entries.length > MAX_ENVELOPE_DEVICES) throw new RangeError(`an envelope holds at most ${MAX_ENVELOPE_DEVICES} devices`);
  if (sender.length !== KEY || entries.some((e) => e.device.length !== KEY)) throw new RangeError('device keys are 32 bytes');
  const out = Buffer.alloc(entries.reduce((n, e) => n + ENTRY_HEAD + e.message.length, HEAD));
  out[0] = DIRECT_ENVELOPE_TAG;
  out.set(sender, 1);
  out[HEAD - 1] = entries.length;
  let at = HEAD;
  for (const e of entries) {
    out.set(e.device, at);
    out.writeUInt32BE(e.message.length, at + KEY);
    out.set(e.message, at + ENTRY_HEAD);
    at += ENTRY_HEAD + e.message.length;
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/**
 * Parses an envelope (bytes, or the base64url text of `dm_send` / `dm`). A string says why it is
 * malformed: another header, an entry cut short or overlong, bytes after the last entry, or one
 * device addressed twice.
 */
export function parseDirectEnvelope(envelope: Uint8Array | string): DirectEnvelope | string {
  const bytes = typeof envelope === 'string' ? fromBase64Url(envelope) : envelope;
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length < HEAD || view[0] !== DIRECT_ENVELOPE_TAG) return 'not a direct-message envelope (0xD3 header)';
  const count = view[HEAD - 1]!;
  const entries = new Map<string, Uint8Array>();
  let at = HEAD;
  for (let i = 0; i < count; i++) {
    if (at + ENTRY_HEAD > view.length) return 'envelope entry header cut short';
    const device = view.toString('base64url', at, at + KEY);
    const end = at + ENTRY_HEAD + view.readUInt32BE(at + KEY);
    if (end > view.length) return 'envelope entry longer than the envelope';
    if (entries.has(device)) return 'envelope addresses one device twice';
    entries.set(device, bytes.subarray(at + ENTRY_HEAD, end));
    at = end;
  }
  if (at !== view.length) return 'bytes after the last envelope entry';
  return { sender: bytes.subarray(1, 1 + KEY), entries };
}
