import type { ServerMessageOf, ServerMessageType } from '@hush/protocol';
import { conversationKey } from './conversation.js';
import { compareIds } from './message-ids.js';
import type { RequestBody } from './requests.js';
import type { EmitEvent, Target } from './types.js';

type Missed = ServerMessageOf<'history_page'>['messages'];

const CATCH_UP_PAGE = 200;
/** After a restart, at most this many missed messages per room come as events (the rest: history()). */
const RESTART_CATCH_UP_LIMIT = 1000;

/** Newest message id handled per conversation: where the catch-up query after a reconnect starts. */
export class Cursors {
  private readonly last = new Map<string, { target: Target; id: string }>();

  /** Moves forward only. */
  advance(target: Target, id: string): void {
    const key = conversationKey(target);
    const current = this.last.get(key);
    if (current === undefined || compareIds(id, current.id) > 0) this.last.set(key, { target, id });
  }

  get(target: Target): string | undefined {
    return this.last.get(conversationKey(target))?.id;
  }

  /** The direct conversations that have a cursor (rooms come from the joined list instead). */
  directTargets(): Target[] {
    return [...this.last.values()].filter(({ target }) => 'user' in target).map(({ target }) => target);
  }
}

export interface CatchUpHost {
  emit: EmitEvent;
  /** On the connection as it is: catch-up runs before the client is 'ready' again. */
  request<T extends ServerMessageType>(body: RequestBody, expect: readonly T[]): Promise<ServerMessageOf<T>>;
  /** Shows a missed message (called in server order across all conversations). */
  show(item: Missed[number]): Promise<void>;
  /** A room message was handled: the user's state file keeps the newest, so a restart starts after it. */
  roomCursorMoved(room: string, id: string): void;
}

/**
 * "No gap, no duplicate" across reconnects and restarts: a cursor per conversation, moved by every
 * message handled (shown, or with nothing to show: a room file offer, a message refused and said;
 * not one still waiting for its sender's key), and the history queries that fetch what came after it.
 */
export class CatchUp {
  private readonly cursors = new Cursors();
  /** room -> the newest message a previous run of this device had seen there. */
  private readonly lastRun = new Map<string, string>();

  constructor(private readonly host: CatchUpHost) {}

  /** A message of `target` was handled. */
  advance(target: Target, id: string): void {
    this.cursors.advance(target, id);
    if ('room' in target) this.host.roomCursorMoved(target.room, id);
  }

  /** `id` is older than a message of `target` handled already: it comes late, out of server order. */
  isBehind(target: Target, id: string): boolean {
    const newest = this.cursors.get(target);
    return newest !== undefined && compareIds(id, newest) < 0;
  }

  /** After a reconnect: everything after each conversation's cursor, shown once each in server order. */
  async afterReconnect(rooms: Iterable<string>): Promise<void> {
    const targets: Target[] = [...rooms].map((room) => ({ room }));
    await this.deliverMissed([...targets, ...this.cursors.directTargets()], Infinity);
  }

  /**
   * A new process: each joined room's messages after the newest one a previous run saw (the state
   * file), as events, before live ones. Bounded per room; past the bound the rest stays in history().
   */
  async sinceLastRun(rooms: Iterable<string>, stored: ReadonlyMap<string, string>): Promise<void> {
    const targets: Target[] = [];
    for (const room of rooms) {
      const id = stored.get(room);
      if (id === undefined || this.cursors.get({ room }) !== undefined) continue;
      this.lastRun.set(room, id);
      this.cursors.advance({ room }, id);
      targets.push({ room });
    }
    const cut = await this.deliverMissed(targets, RESTART_CATCH_UP_LIMIT);
    for (const target of cut) {
      const room = 'room' in target ? target.room : '';
      this.host.emit('notice', {
        level: 'warn',
        code: 'CATCH_UP_LIMIT',
        text: `more than ${RESTART_CATCH_UP_LIMIT} messages in #${room} since this client last ran: the newest are shown, older ones are in its history`,
      });
    }
  }

  /** The newest message of `room` that a previous run of this device had seen, if it ran there. */
  seenInLastRun(room: string): string | undefined {
    return this.lastRun.get(room);
  }

  /** Where catch-up starts for rooms not seen yet: their newest message now. */
  async baseline(rooms: Iterable<string>): Promise<void> {
    const unseen = [...rooms].filter((room) => this.cursors.get({ room }) === undefined);
    await Promise.all(
      unseen.map(async (room) => {
        const page = await this.host.request({ type: 'history', target: { room }, limit: 1 }, ['history_page']);
        const last = page.messages[page.messages.length - 1];
        this.advance({ room }, last?.msgId ?? '0');
      }),
    );
  }

  /**
   * Fetches each target's messages after its cursor (pages of CATCH_UP_PAGE, at most `limit` per
   * target: the newest ones when there are more) and shows them in server order. Returns the
   * targets that had more.
   */
  private async deliverMissed(targets: Target[], limit: number): Promise<Target[]> {
    const missed: Missed = [];
    const cut: Target[] = [];
    await Promise.all(
      targets.map(async (target) => {
        let after = this.cursors.get(target);
        if (after === undefined) return;
        const mine: Missed = [];
        for (;;) {
          const page: ServerMessageOf<'history_page'> = await this.host.request({ type: 'history', target, after, limit: CATCH_UP_PAGE }, [
            'history_page',
          ]);
          for (const item of page.messages) {
            mine.push(item);
            if (compareIds(item.msgId, after) > 0) after = item.msgId;
          }
          if (!page.hasMore || page.messages.length === 0) break;
          if (mine.length >= limit) {
            mine.splice(0, mine.length, ...(await this.newestOf(target, limit)));
            cut.push(target);
            break;
          }
        }
        missed.push(...mine);
      }),
    );
    missed.sort((a, b) => compareIds(a.msgId, b.msgId));
    for (const item of missed) await this.host.show(item);
    return cut;
  }

  /** The newest `limit` messages of a conversation, oldest first (paging back from the newest). */
  private async newestOf(target: Target, limit: number): Promise<Missed> {
    const newest: Missed = [];
    let before: string | undefined;
    while (newest.length < limit) {
      const page: ServerMessageOf<'history_page'> = await this.host.request(
        { type: 'history', target, limit: CATCH_UP_PAGE, ...(before === undefined ? {} : { before }) },
        ['history_page'],
      );
      newest.unshift(...page.messages);
      const oldest = page.messages[0];
      if (!page.hasMore || !oldest) break;
      before = oldest.msgId;
    }
    return newest.slice(-limit);
  }
}
