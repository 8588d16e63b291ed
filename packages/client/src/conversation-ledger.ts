import { MAX_DISTINCT_REACTIONS, type MessageRef, type ServerMessageOf } from '@hush/protocol';
import type { ChatMessage, MessageChange, MessageUpdate, Reaction } from './types.js';

// The latest state of every message this client has seen: edits, deletes and reactions folded in.
// Every change is keyed by the server id of the message that carried it, and each rule is
// "last writer by id wins", so the state is the same whatever order changes arrive in (live,
// catch-up, history paged backwards, after a restart): every client ends in the same state.
//   - an edit counts only from the author; the highest-id edit gives the text;
//   - a delete (from the author; in open rooms also from an operator, which only the server can check)
//     is final: text, edits and reactions are gone;
//   - a reaction is per (person, emoji): the highest-id add/remove wins; a message keeps at most
//     MAX_DISTINCT_REACTIONS distinct emoji, further ones are ignored.

/**
 * A message as it arrives: a line of chat, possibly referring to another (reply, edit, delete,
 * reaction). `sealed`: it came end to end in a room, so no server checked who may delete.
 */
export type IncomingMessage = ChatMessage & { ref?: MessageRef; sealed?: boolean };

/** A room message as it arrives, saying `said` (read off the wire, or opened from its envelope). */
export function roomMessage(
  m: ServerMessageOf<'message'>,
  said: { text: string; action: boolean; ref?: MessageRef | undefined },
  me: string | null | undefined,
): IncomingMessage {
  return {
    kind: 'room',
    id: m.msgId,
    ts: m.ts,
    from: m.from,
    room: m.room,
    text: said.text,
    action: said.action,
    mine: m.from === me,
    ...(said.ref ? { ref: said.ref } : {}),
  };
}

/** Whether a send with `ref` is a line of its own (shown as pending until acked): plain messages and replies. */
export function listedRef(ref: MessageRef | undefined): boolean {
  return ref === undefined || ref.kind === 'reply';
}

/** Changes remembered for a message not seen yet (its older history page may come later). */
const MAX_PENDING_PER_MESSAGE = 5000;
/** Messages remembered; the oldest are forgotten beyond this. */
const MAX_MESSAGES = 50_000;

interface Entry {
  chat?: ChatMessage;
  /** Edit with the highest id so far. */
  edit?: { id: string; text: string };
  deleted: boolean;
  /** emoji -> user -> the latest add/remove. */
  reactions: Map<string, Map<string, { id: string; on: boolean }>>;
  /** Changes that arrived before the message itself. */
  pending: IncomingMessage[];
}

/** Decimal ids compared as numbers (they can exceed 2^53). */
const newer = (a: string, b: string): boolean => (a.length !== b.length ? a.length > b.length : a > b);

export class ConversationLedger {
  private readonly entries = new Map<string, Entry>();

  /** A text-bearing message (plain or reply): returns it with the changes already known applied. */
  message(incoming: IncomingMessage): ChatMessage {
    const { ref, sealed: _sealed, ...chat } = incoming;
    const entry = this.entry(chat.id);
    entry.chat = ref?.kind === 'reply' ? { ...chat, replyTo: ref.msgId } : chat;
    if (chat.deleted) entry.deleted = true;
    // In server order, as a client that saw them live applied them (the distinct-emoji cap depends on it).
    const pending = entry.pending.sort((a, b) => (newer(a.id, b.id) ? 1 : -1));
    entry.pending = [];
    for (const change of pending) this.fold(entry, change);
    return this.view(entry)!;
  }

  /**
   * An edit, delete or reaction (a message whose ref is not a reply). Returns the update to report,
   * or undefined when it changes nothing or is not allowed.
   */
  change(incoming: IncomingMessage): MessageUpdate | undefined {
    const ref = incoming.ref;
    if (!ref || ref.kind === 'reply') return undefined;
    const entry = this.entry(ref.msgId);
    if (!entry.chat) {
      if (entry.pending.length < MAX_PENDING_PER_MESSAGE) entry.pending.push(incoming);
      return undefined;
    }
    if (!this.fold(entry, incoming)) return undefined;
    const target = incoming.kind === 'room' ? { room: incoming.room! } : { user: incoming.peer! };
    return { target, msgId: ref.msgId, by: incoming.from, change: changeOf(incoming), message: this.view(entry)! };
  }

  /** The latest state of message `id`, if this client has it. */
  get(id: string): ChatMessage | undefined {
    const entry = this.entries.get(id);
    return entry && this.view(entry);
  }

  /** Who reacted with what to message `id` (emoji in first-reaction order, users in reaction order). */
  reactions(id: string): Reaction[] {
    return this.get(id)?.reactions ?? [];
  }

  private entry(id: string): Entry {
    let entry = this.entries.get(id);
    if (!entry) {
      if (this.entries.size >= MAX_MESSAGES) this.entries.delete(this.entries.keys().next().value!);
      entry = { deleted: false, reactions: new Map(), pending: [] };
      this.entries.set(id, entry);
    }
    return entry;
  }

  /** Applies one change to a known message; returns whether anything changed. */
  private fold(entry: Entry, m: IncomingMessage): boolean {
    const chat = entry.chat!;
    const ref = m.ref!;
    const byAuthor = m.from === chat.from;
    switch (ref.kind) {
      case 'reply':
        return false;
      case 'edit':
        if (!byAuthor || entry.deleted || (entry.edit && !newer(m.id, entry.edit.id))) return false;
        entry.edit = { id: m.id, text: m.text };
        return true;
      case 'delete':
        // In an open room the server lets an operator delete others' messages; end to end (a direct
        // conversation, an e2e room) no server checked: only the author may.
        if (entry.deleted || (!byAuthor && (chat.kind !== 'room' || m.sealed === true))) return false;
        entry.deleted = true;
        delete entry.edit;
        entry.reactions.clear();
        return true;
      case 'react': {
        if (entry.deleted) return false;
        let users = entry.reactions.get(ref.emoji);
        const last = users?.get(m.from);
        if (last && !newer(m.id, last.id)) return false;
        const shown = users !== undefined && [...users.values()].some((u) => u.on);
        if (ref.on && !shown && this.distinct(entry) >= MAX_DISTINCT_REACTIONS) return false;
        if (!users) {
          users = new Map();
          entry.reactions.set(ref.emoji, users);
        }
        const changed = (last?.on ?? false) !== ref.on;
        // Keep the latest id even when nothing changes (a removal of nothing included), so an
        // older change arriving later loses.
        users.delete(m.from);
        users.set(m.from, { id: m.id, on: ref.on });
        return changed;
      }
    }
  }

  private distinct(entry: Entry): number {
    let n = 0;
    for (const users of entry.reactions.values()) if ([...users.values()].some((u) => u.on)) n++;
    return n;
  }

  private view(entry: Entry): ChatMessage | undefined {
    const chat = entry.chat;
    if (!chat) return undefined;
    if (entry.deleted) {
      const { reactions: _r, edited: _e, ...rest } = chat;
      return { ...rest, text: '', deleted: true };
    }
    const reactions: Reaction[] = [];
    for (const [emoji, users] of entry.reactions) {
      const who = [...users].filter(([, u]) => u.on).map(([name]) => name);
      if (who.length > 0) reactions.push({ emoji, users: who });
    }
    return {
      ...chat,
      ...(entry.edit ? { text: entry.edit.text, edited: true } : {}),
      ...(reactions.length > 0 ? { reactions } : {}),
    };
  }
}

function changeOf(m: IncomingMessage): MessageChange {
  const ref = m.ref!;
  if (ref.kind === 'edit') return { kind: 'edit', text: m.text };
  if (ref.kind === 'react') return { kind: 'react', emoji: ref.emoji, on: ref.on };
  return { kind: 'delete' };
}
