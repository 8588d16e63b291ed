import { MAX_TEXT_LENGTH, messageRef, type MessageRef } from '@hush/protocol';

// What travels inside a direct message's session message: `DirectInner` (JSON), whose body is a
// text message, a file offer whose key and name never reach the server, or a room's sender key. A
// text message with `ref` is a reply, edit, delete or reaction (a delete or reaction has empty
// text): the same references as room messages, out of the server's sight.

/** The plaintext of a DM, the same for every device it is sealed to. */
export interface DirectInner {
  /** Sender username: the receiver checks it against the server's routing. */
  from: string;
  /** Recipient username: checked the same way. */
  to: string;
  /** Random id, unique per sender. */
  id: string;
  /** Per-conversation sequence number (1, 2, ...), checked with SequenceTracker. */
  seq: number;
  /** Sender's clock, Unix milliseconds. */
  sentAt: number;
  /** The body (`encodeBody`). */
  body: string;
}

export interface DirectFileInfo {
  fileId: string;
  name: string;
  size: number;
  /** base64url */
  sha512: string;
  /** base64url, 32 bytes */
  key: string;
  /** base64url, 16 bytes */
  noncePrefix: string;
}

/** `roomKey`: a sender-key distribution (base64url) for an end-to-end room, device to device. */
export type DirectBody = { text: string; action: boolean; ref?: MessageRef } | { file: DirectFileInfo } | { roomKey: string };

export function encodeBody(body: DirectBody): string {
  return JSON.stringify(body);
}

const isStr = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;

/** Parses and checks a decrypted body; undefined when it is not one of the known shapes. */
export function decodeBody(text: string): DirectBody | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if ('text' in o) {
    if (!isStr(o.text, MAX_TEXT_LENGTH)) return undefined;
    const ref = o.ref === undefined ? undefined : messageRef.safeParse(o.ref);
    if (ref && !ref.success) return undefined;
    const bodiless = ref?.data.kind === 'delete' || ref?.data.kind === 'react';
    if (bodiless !== (o.text.length === 0)) return undefined;
    return { text: o.text, action: o.action === true, ...(ref ? { ref: ref.data } : {}) };
  }
  if ('roomKey' in o) return isStr(o.roomKey, 2000) ? { roomKey: o.roomKey } : undefined;
  if ('file' in o && typeof o.file === 'object' && o.file !== null) {
    const f = o.file as Record<string, unknown>;
    if (
      isStr(f.fileId, 64) &&
      isStr(f.name, 1024) &&
      typeof f.size === 'number' &&
      Number.isSafeInteger(f.size) &&
      f.size >= 0 &&
      isStr(f.sha512, 100) &&
      isStr(f.key, 60) &&
      isStr(f.noncePrefix, 40)
    ) {
      return { file: { fileId: f.fileId, name: f.name, size: f.size, sha512: f.sha512, key: f.key, noncePrefix: f.noncePrefix } };
    }
  }
  return undefined;
}
