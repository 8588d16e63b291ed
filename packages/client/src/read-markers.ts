import type { ServerMessageOf } from '@hush/protocol';
import { conversationKey } from './conversation.js';
import { compareIds } from './message-ids.js';
import type { Target } from './types.js';

type Marker = ServerMessageOf<'read_markers'>['markers'][number];

/**
 * Per conversation, the newest message the account has read on any of its devices. The server keeps
 * them (read_markers_get, asked after each login and catch-up); live ones come as the user's own
 * read_notice; this device's own come from markRead. A marker only moves forward.
 */
export class ReadMarkers {
  private readonly newest = new Map<string, string>();

  /** True when the marker of `target` moved. */
  advance(target: Target, msgId: string): boolean {
    const key = conversationKey(target);
    const current = this.newest.get(key);
    if (current !== undefined && compareIds(msgId, current) <= 0) return false;
    this.newest.set(key, msgId);
    return true;
  }

  /** Another account logged in: nothing of the last one's applies. */
  clear(): void {
    this.newest.clear();
  }

  get(target: Target): string | undefined {
    return this.newest.get(conversationKey(target));
  }

  /** The server's markers taken in: those that moved here (read elsewhere meanwhile). */
  merge(markers: readonly Marker[]): Marker[] {
    return markers.filter((m) => this.advance(m.target, m.msgId));
  }
}
