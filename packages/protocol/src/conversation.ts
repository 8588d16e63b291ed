import { z } from 'zod';
import { messageId } from './fields.js';

// Conversation features (replies, edits, deletes, reactions) are message kinds: a message that
// refers to an earlier one. In rooms the reference rides on the message; in direct conversations
// the same shape lives inside the end-to-end envelope, so the server learns nothing new.

/** Longest reaction: one emoji, ZWJ sequences and skin tones included. */
export const MAX_REACTION_LENGTH = 32;
/** Distinct emoji kept per message; reactions with a further emoji are ignored by every client. */
export const MAX_DISTINCT_REACTIONS = 20;

/** A reaction: a short string without whitespace or control characters (clients send emoji). */
export const reaction = z
  .string()
  .min(1)
  .max(MAX_REACTION_LENGTH)
  .regex(/^[^\s\p{Cc}]+$/u, { error: 'expected an emoji (no spaces or control characters)' });

export const messageRef = z.discriminatedUnion('kind', [
  /** The message answers `msgId`. */
  z.strictObject({ kind: z.literal('reply'), msgId: messageId }),
  /** The message's text replaces the text of `msgId` (its author's own). */
  z.strictObject({ kind: z.literal('edit'), msgId: messageId }),
  /** Takes `msgId` back: its author, or a room operator. */
  z.strictObject({ kind: z.literal('delete'), msgId: messageId }),
  /** Adds (`on`) or removes the sender's `emoji` on `msgId`. */
  z.strictObject({ kind: z.literal('react'), msgId: messageId, emoji: reaction, on: z.boolean() }),
]);

export type MessageRef = z.infer<typeof messageRef>;
