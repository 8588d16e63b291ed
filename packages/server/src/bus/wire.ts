// What travels on NATS between nodes, checked on arrival: a node acts only on well-formed input,
// whatever else reaches the subjects (NATS itself should still require credentials: docs/cluster.md).
import { z } from 'zod';
import type { StoredMessage } from '../store/types.js';
import type { BusSignal } from './types.js';

const id = z.string().regex(/^\d{1,20}$/);
const name = z.string().min(1).max(256);

const messageRef = z.union([
  z.strictObject({ kind: z.enum(['reply', 'edit', 'delete']), msgId: id }),
  z.strictObject({ kind: z.literal('react'), msgId: id, emoji: z.string().max(64), on: z.boolean() }),
]);

// Loose: a field a newer node adds travels on; the ones a node relies on are checked.
const storedMessage = z.discriminatedUnion('kind', [
  z.looseObject({
    kind: z.literal('room'),
    id,
    ts: z.number().int(),
    from: name,
    room: name,
    text: z.string(),
    action: z.boolean(),
    ref: messageRef.optional(),
    deleted: z.boolean().optional(),
    envelope: z.string().optional(),
  }),
  z.looseObject({ kind: z.literal('dm'), id, ts: z.number().int(), from: name, to: name, envelope: z.string() }),
]);

const json: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

const signal = z.strictObject({ topic: z.enum(['presence', 'typing', 'moderation', 'keys', 'hits', 'files', 'notices']), body: json });

const node = z.string().min(1).max(64);

export const BUS_WIRE = z.union([
  z.strictObject({ n: node, m: z.array(storedMessage) }),
  z.strictObject({ n: node, s: z.array(signal) }),
  z.strictObject({ n: node, h: id, bye: z.literal(true).optional() }),
]);

export type Wire = { n: string; m: StoredMessage[] } | { n: string; s: BusSignal[] } | { n: string; h: string; bye?: true };

/** The message, or undefined when it is not one (not JSON, or not of a known shape). */
export function decodeWire(bytes: Uint8Array): Wire | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = BUS_WIRE.safeParse(raw);
  return parsed.success ? (parsed.data as Wire) : undefined;
}
