import type { Target } from './types.js';

/**
 * The one key of a conversation in the SDK's maps and cursors: "#room" or "@user" (the other user of
 * a direct conversation). The prefix keeps a room and a user of the same name apart.
 */
export function conversationKey(target: Target): string {
  return 'room' in target ? `#${target.room}` : `@${target.user}`;
}
