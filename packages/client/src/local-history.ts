import { appendFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ConversationLedger, type IncomingMessage } from './conversation-ledger.js';
import { compareIds } from './message-ids.js';
import { fileSafe } from './paths.js';
import { ensurePrivateDir, readOptional, writePrivateFile } from './secure-fs.js';
import type { SearchResult, Target } from './types.js';

// What this device received or sent, as it read it (direct messages decrypted), kept so that search
// works over everything, end-to-end conversations included, without asking the server:
// <server home>/history/<user>/<conversation>.jsonl, one message per line, append-only,
// files 0600 in 0700 folders. Edits, deletes and reactions are lines too; reading folds them in, so
// a search finds the latest text and never a deleted message. A delete also rewrites the file
// without the deleted text and its edits: the device keeps no more than the server does.

const MAX_RESULTS = 200;

export class LocalHistory {
  private readonly recorded = new Set<string>();
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly dir: string) {}

  static for(historyDir: string, user: string): LocalHistory {
    return new LocalHistory(join(historyDir, fileSafe(user)));
  }

  /** Appends a message once per session (a repeat from another session is folded away on reading). */
  record(m: IncomingMessage): void {
    if (this.closed || this.recorded.has(m.id)) return;
    this.recorded.add(m.id);
    const target: Target = m.kind === 'room' ? { room: m.room! } : { user: m.peer! };
    const line = `${JSON.stringify(m)}\n`;
    const file = this.fileOf(target);
    this.writing = this.writing
      .then(async () => {
        await ensurePrivateDir(this.dir);
        await appendFile(file, line, { mode: 0o600 });
        if (m.ref?.kind === 'delete') await this.forget(file, m.ref.msgId, m);
      })
      .catch(() => undefined); // a full disk costs search, never a message
  }

  /** Resolves once every recorded line is written. */
  flushed(): Promise<void> {
    return this.writing;
  }

  /** Records nothing more (the client is closing) and resolves once what was recorded is written. */
  close(): Promise<void> {
    this.closed = true;
    return this.writing;
  }

  /**
   * Every message kept of `target`, by id (its first line; changes stay separate lines): the
   * messages of an end-to-end room this device opened before, which the server's pages cannot
   * give back in clear.
   */
  async messages(target: Target): Promise<Map<string, IncomingMessage>> {
    await this.flushed();
    const out = new Map<string, IncomingMessage>();
    for (const line of ((await readOptional(this.fileOf(target))) ?? '').split('\n')) {
      const m = parseLine(line);
      if (m && !out.has(m.id)) out.set(m.id, m);
    }
    return out;
  }

  /**
   * Messages whose latest text holds every word of `query` (case-insensitive), newest first, in
   * `target` or in every conversation.
   */
  async search(query: string, target?: Target): Promise<SearchResult[]> {
    await this.flushed();
    const matches = queryMatcher(query);
    if (!matches) return [];
    const files = target ? [this.fileOf(target)] : await this.files();
    const results: SearchResult[] = [];
    for (const file of files) {
      const ledger = new ConversationLedger();
      const texts = new Set<string>();
      for (const line of ((await readOptional(file)) ?? '').split('\n')) {
        const m = parseLine(line);
        if (!m) continue;
        if (m.ref && m.ref.kind !== 'reply') ledger.change(m);
        else if (!texts.has(m.id)) {
          ledger.message(m);
          texts.add(m.id);
        }
      }
      for (const id of texts) {
        const message = ledger.get(id)!;
        if (message.deleted || !matches(message.text)) continue;
        results.push({ target: message.kind === 'room' ? { room: message.room! } : { user: message.peer! }, message });
      }
    }
    // Messages of one burst can share a millisecond: then the server's order (ids) decides.
    results.sort((a, b) => b.message.ts - a.message.ts || compareIds(b.message.id, a.message.id));
    return results.slice(0, MAX_RESULTS);
  }

  /** Blanks the text of message `id` and of its edits, if `del` may delete it (its author; in an open room, whom the server let). */
  private async forget(file: string, id: string, del: IncomingMessage): Promise<void> {
    const lines = ((await readOptional(file)) ?? '').split('\n');
    const parsed = lines.map(parseLine);
    const original = parsed.find((m) => m?.id === id && (m.ref === undefined || m.ref.kind === 'reply'));
    if (!original || (original.from !== del.from && (original.kind !== 'room' || del.sealed === true))) return;
    let changed = false;
    const out = lines.map((line, i) => {
      const m = parsed[i];
      const target = m && (m.id === id || (m.ref?.kind === 'edit' && m.ref.msgId === id && m.from === original.from));
      if (!m || !target || m.text === '') return line;
      changed = true;
      return JSON.stringify({ ...m, text: '', ...(m.id === id ? { deleted: true } : {}) });
    });
    if (changed) await writePrivateFile(file, out.join('\n'));
  }

  private fileOf(target: Target): string {
    return join(this.dir, 'room' in target ? `room-${fileSafe(target.room)}.jsonl` : `user-${fileSafe(target.user)}.jsonl`);
  }

  private async files(): Promise<string[]> {
    try {
      return (await readdir(this.dir)).filter((f) => f.endsWith('.jsonl')).map((f) => join(this.dir, f));
    } catch {
      return [];
    }
  }
}

/** A stored line, or undefined for a torn or foreign one (a crash mid-append leaves a partial last line). */
function parseLine(line: string): IncomingMessage | undefined {
  if (line.length === 0) return undefined;
  try {
    const m = JSON.parse(line) as IncomingMessage;
    return typeof m.id === 'string' && typeof m.text === 'string' && typeof m.from === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether a text holds every word of `query`, each at the start of a word of the text (ignoring
 * case): "cat" finds "cats" and "Category", not "concatenate"; "7" finds "7" and "70", not "57". A
 * query word that begins with neither a letter nor a digit (an emoji, "#tag") may start anywhere.
 * Undefined for a query of no words.
 */
export function queryMatcher(query: string): ((text: string) => boolean) | undefined {
  const words = query.split(/\s+/).filter((w) => w.length > 0);
  if (words.length === 0) return undefined;
  const patterns = words.map((w) => {
    const escaped = w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return new RegExp(/^[\p{L}\p{N}]/u.test(w) ? `(?<![\\p{L}\\p{N}\\p{M}])${escaped}` : escaped, 'iu');
  });
  return (text) => patterns.every((p) => p.test(text));
}
