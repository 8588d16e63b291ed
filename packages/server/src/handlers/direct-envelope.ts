// What each device is sent of a direct message (PROTOCOL.md, `dm`); the 0xD3 framing itself is
// @hush/protocol's `parseDirectEnvelope` / `encodeDirectEnvelope`.
import { encodeDirectEnvelope, fromBase64Url, parseDirectEnvelope, toBase64Url } from '@hush/protocol';

/**
 * What `device` (base64url sign key) is sent of a stored envelope: the sender and its own entry
 * only (none when the message was not for it, or the session has no device). The sending device
 * gets the envelope back as it wrote it: every entry is its own work, and it recognises its message
 * by the whole envelope (after a crash lost the ack). Stored envelopes were checked on `dm_send`;
 * one that no longer parses is passed on as is.
 */
export function envelopeForDevice(envelope: string, device: string | undefined): string {
  const parsed = parseDirectEnvelope(envelope);
  if (typeof parsed === 'string' || toBase64Url(parsed.sender) === device) return envelope;
  const message = device === undefined ? undefined : parsed.entries.get(device);
  return toBase64Url(encodeDirectEnvelope(parsed.sender, message ? [{ device: fromBase64Url(device!), message }] : []));
}
