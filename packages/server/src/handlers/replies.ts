// How stored records become replies, and how long lists are cut to fit one record.
import type { ServerMessage } from '@hush/protocol';
import type { HushdConfig } from '../config.js';
import type { DeviceRecord, StoredMessage } from '../store/types.js';
import { envelopeForDevice } from './direct-envelope.js';

export function wireBundle(device: DeviceRecord) {
  return { signKey: device.signKey, boxKey: device.boxKey, signature: device.signature };
}

/** A stored message as sent; a direct message carries only the entry of `device` (the receiving session's). */
export function wireMessage(m: StoredMessage, device?: string): Extract<ServerMessage, { type: 'message' | 'dm' }> {
  return m.kind === 'room'
    ? {
        type: 'message',
        room: m.room,
        msgId: m.id,
        ts: m.ts,
        from: m.from,
        text: m.text,
        action: m.action,
        ...(m.ref ? { ref: m.ref } : {}),
        ...(m.deleted ? { deleted: true } : {}),
        ...(m.envelope !== undefined ? { envelope: m.envelope } : {}),
      }
    : { type: 'dm', msgId: m.id, ts: m.ts, from: m.from, to: m.to, envelope: envelopeForDevice(m.envelope, device) };
}

/**
 * The leading items of `items` whose JSON fits in `budget` bytes: a reply must fit one record
 * (the frame limit), so long lists are cut (history pages say `hasMore`, list pages give `next`).
 */
export function takeWithin<T>(items: readonly T[], budget: number): T[] {
  const out: T[] = [];
  let used = 0;
  for (const item of items) {
    used += Buffer.byteLength(JSON.stringify(item)) + 1;
    if (used > budget) break;
    out.push(item);
  }
  return out;
}

/** Room left for a list reply inside one record. */
export function replyBudget(limits: Pick<HushdConfig['limits'], 'maxFrameSize'>): number {
  return limits.maxFrameSize - 4096;
}
