// Tab completion of commands, nicks, #rooms and :emoji: shortcodes; repeated Tab cycles.
import { COMMANDS } from './commands.js';
import { searchEmoji } from './emoji.js';

export interface CompletionContext { nicks: readonly string[]; rooms: readonly string[] }

interface Cycle { before: string; candidates: string[]; index: number; produced: string }

/** Candidates (full replacement words, including any trailing separator) for the last word of `line`. */
export function completionsFor(line: string, ctx: CompletionContext): { before: string; candidates: string[] } | null {
  const cut = line.search(/\S*$/);
  const before = line.slice(0, cut);
  const word = line.slice(cut);
  if (word === '') return null;
  const lower = word.toLowerCase();
  const atLineStart = before.trim() === '';
  const uniqSorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort((a, b) => a.localeCompare(b));
  let candidates: string[] = [];
  if (atLineStart && word.startsWith('/')) {
    candidates = COMMANDS.map((c) => '/' + c.name).filter((c) => c.startsWith(lower)).map((c) => c + ' ');
  } else if (word.startsWith('#')) {
    candidates = uniqSorted(ctx.rooms).filter((r) => ('#' + r).toLowerCase().startsWith(lower)).map((r) => `#${r} `);
  } else if (word.startsWith(':') && word.length >= 3 && !word.slice(1).includes(':')) {
    const q = lower.slice(1);
    candidates = searchEmoji(q, 200).filter((e) => e.name.startsWith(q)).map((e) => `:${e.name}: `);
  } else {
    const prefix = word.startsWith('@') ? lower.slice(1) : lower;
    const sep = atLineStart && !before.includes('/') ? ': ' : ' ';
    candidates = uniqSorted(ctx.nicks).filter((n) => n.toLowerCase().startsWith(prefix)).map((n) => n + sep);
  }
  return candidates.length === 0 ? null : { before, candidates };
}

/** Stateful wrapper: Tab on the line we produced last time moves to the next candidate. */
export class TabCompleter {
  private cycle: Cycle | null = null;

  tab(line: string, ctx: CompletionContext): string {
    if (this.cycle && line === this.cycle.produced) {
      const c = this.cycle;
      c.index = (c.index + 1) % c.candidates.length;
      c.produced = c.before + c.candidates[c.index]!;
      return c.produced;
    }
    const found = completionsFor(line, ctx);
    if (!found) {
      this.cycle = null;
      return line;
    }
    this.cycle = { before: found.before, candidates: found.candidates, index: 0, produced: found.before + found.candidates[0]! };
    return this.cycle.produced;
  }

  /** Any key other than Tab ends the cycle. */
  reset(): void {
    this.cycle = null;
  }
}
