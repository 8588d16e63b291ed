import { z } from 'zod';

// Field types shared by many messages. Every string and list is bounded.

/** Unpadded base64url of at most `maxBytes` bytes. */
export const bytes = (maxBytes: number) =>
  z
    .string()
    .max(Math.ceil((maxBytes * 4) / 3))
    .regex(/^[A-Za-z0-9_-]*$/, { error: 'expected unpadded base64url' });

/** A 32-byte key as base64url. */
export const key32 = z.string().regex(/^[A-Za-z0-9_-]{43}$/, { error: 'expected a 32-byte key as base64url' });
/** A 64-byte signature or MAC as base64url. */
export const bytes64 = z.string().regex(/^[A-Za-z0-9_-]{86}$/, { error: 'expected 64 bytes as base64url' });

/** Client-chosen request id, echoed as `re` in the reply. */
export const requestId = z.string().min(1).max(64);
/**
 * Client-chosen idempotency key of a `send` / `dm_send`: the server stores one message per
 * (sender, key) and answers a repeat with the original `ack`.
 */
export const clientKey = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, { error: 'expected a key: A-Z a-z 0-9 _ - (8..64)' });
/** Server-assigned message id (decimal digits). */
export const messageId = z.string().regex(/^[0-9]{1,20}$/, { error: 'expected a message id' });
/** Milliseconds since the Unix epoch (stamped by the server, unless a field says otherwise). */
export const timestamp = z.number().int().nonnegative().max(8.64e15);

/** A username as typed; the server normalises and checks it (see PROTOCOL.md, "Usernames"). */
export const usernameInput = z.string().min(1).max(64);
/** A canonical username as the server sends it. */
export const username = z.string().regex(/^[a-z0-9_-]{3,24}$/, { error: 'expected a canonical username' });
/** Room name without the leading '#'. */
export const roomName = z.string().regex(/^[a-z0-9_-]{1,32}$/, { error: 'expected a room name: a-z 0-9 _ - (1..32)' });
export const password = z.string().min(1).max(1024);
/** A device's id as `hushd user devices` and clients show it: 16 bytes of SHA-512 of its sign key, base64url. */
export const deviceId = z.string().regex(/^[A-Za-z0-9_-]{22}$/, { error: 'expected a device id (22 characters of base64url)' });

export const MAX_TEXT_LENGTH = 4000;
export const text = z.string().min(1).max(MAX_TEXT_LENGTH);
export const topic = z.string().max(300);
/** 'e2e': messages are sealed envelopes only members open; 'open': the server reads them (an admin's choice). */
export const roomKind = z.enum(['e2e', 'open']);
export const statusText = z.string().max(100);
export const reason = z.string().max(200);

/** Where a message goes: a room, or a user (direct conversation). Exactly one key. */
export const target = z.union([z.strictObject({ room: roomName }), z.strictObject({ user: username })]);

export const role = z.enum(['owner', 'op', 'member']);
export const serverRole = z.enum(['admin', 'user']);
export const presenceState = z.enum(['online', 'away', 'offline']);

/** A device's public key bundle: Ed25519 signing key, X25519 box key signed by it. */
export const deviceBundle = z.strictObject({
  signKey: key32,
  boxKey: key32,
  signature: bytes64,
});

/** A prekey's id, chosen by its device (u32). */
const prekeyId = z
  .number()
  .int()
  .min(0)
  .max(2 ** 32 - 1);
/** A device's signed prekey (X25519), signed by the device's Ed25519 key (see @hush/crypto). */
export const signedPrekey = z.strictObject({
  id: prekeyId,
  /** When the device made it (its own clock). */
  createdAt: timestamp,
  publicKey: key32,
  signature: bytes64,
});
/** A one-time prekey (X25519), handed out once. */
export const oneTimePrekey = z.strictObject({ id: prekeyId, publicKey: key32 });

/** Opaque end-to-end ciphertext (the server never reads it). */
export const MAX_ENVELOPE_BYTES = 64 * 1024;
export const envelope = bytes(MAX_ENVELOPE_BYTES);

/** A file chunk on the wire: at most 64 KiB of (sealed) data. */
export const MAX_CHUNK_BYTES = 64 * 1024 + 64;
export const fileId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, { error: 'expected a file id' });
