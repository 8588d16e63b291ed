// The public framing of a direct message's envelope (PROTOCOL.md, `dm_send`): the sending device,
// then one entry per device it is for. The server reads only device keys and lengths, never the
// ciphertexts, and hands each device just its own entry.
//   0xD3 | sender signKey 32 | u8 count | count × (device signKey 32 | u32 BE length | message)

const VERSION = 0xd3;
const HEAD = 34;
const ENTRY_HEAD = 36;

export interface DirectEnvelope {
  /** base64url sign key of the sending device. */
  sender: string;
  /** device sign key (base64url) -> [start, end) of its whole entry in the envelope bytes */
  entries: Map<string, [number, number]>;
  bytes: Buffer;
}

/** Parses an envelope (base64url); a string says why it is malformed. */
export function parseDirectEnvelope(envelope: string): DirectEnvelope | string {
  const bytes = Buffer.from(envelope, 'base64url');
  if (bytes.length < HEAD || bytes[0] !== VERSION) return 'not a direct-message envelope (0xD3 header)';
  const count = bytes[33]!;
  const entries = new Map<string, [number, number]>();
  let at = HEAD;
  for (let i = 0; i < count; i++) {
    if (at + ENTRY_HEAD > bytes.length) return 'envelope entry header cut short';
    const key = bytes.subarray(at, at + 32).toString('base64url');
    const end = at + ENTRY_HEAD + bytes.readUInt32BE(at + 32);
    if (end > bytes.length) return 'envelope entry longer than the envelope';
    if (entries.has(key)) return 'envelope addresses one device twice';
    entries.set(key, [at, end]);
    at = end;
  }
  if (at !== bytes.length) return 'bytes after the last envelope entry';
  return { sender: bytes.subarray(1, 33).toString('base64url'), entries, bytes };
}

/**
 * What `device` is sent of a stored envelope: the sender and its own entry only (none when the
 * message was not for it, or the session has no device). The sending device gets the envelope back
 * as it wrote it: every entry is its own work, and it recognises its message by the whole envelope
 * (after a crash lost the ack). Stored envelopes were checked on `dm_send`; one that no longer
 * parses is passed on as is.
 */
export function envelopeForDevice(envelope: string, device: string | undefined): string {
  const parsed = parseDirectEnvelope(envelope);
  if (typeof parsed === 'string' || parsed.sender === device) return envelope;
  const entry = device === undefined ? undefined : parsed.entries.get(device);
  const head = Buffer.from(parsed.bytes.subarray(0, HEAD));
  head[33] = entry ? 1 : 0;
  return (entry ? Buffer.concat([head, parsed.bytes.subarray(entry[0], entry[1])]) : head).toString('base64url');
}
