// Tab completion of commands, nicks, #rooms, :emoji: shortcodes and own device ids; repeated Tab cycles.
import { commandNames, findCommand, type ArgKind } from './commands.js';
import { searchEmoji } from './emoji.js';

export interface CompletionContext {
  nicks: readonly string[];
  rooms: readonly string[];
  /** Ids of this account's other devices (what `/devices remove` takes). */
  devices?: readonly string[];
}

interface Cycle {
  before: string;
  candidates: string[];
  index: number;
  produced: string;
}

/** What the word being typed is, from the command registry when the line is a command. */
function kindOf(before: string, word: string): ArgKind | 'emoji' | 'text' {
  if (before.trim() === '' && word.startsWith('/')) return 'command';
  const cmd = /^\/(\S+)\s+/.exec(before);
  if (cmd) {
    const position = before
      .slice(cmd[0].length)
      .split(/\s+/)
      .filter((w) => w !== '').length;
    const kind = findCommand(cmd[1]!)?.complete?.[position];
    if (kind) return kind;
  }
  if (word.startsWith('#')) return 'room';
  if (word.startsWith(':') && word.length >= 3 && !word.slice(1).includes(':')) return 'emoji';
  return 'text';
}

/** Candidates (full replacement words, including any trailing separator) for the last word of `line`. */
export function completionsFor(line: string, ctx: CompletionContext): { before: string; candidates: string[] } | null {
  const cut = line.search(/\S*$/);
  const before = line.slice(0, cut);
  const word = line.slice(cut);
  const kind = kindOf(before, word);
  // A device id is hard to type from its first letter: Tab offers them from nothing.
  if (word === '' && kind !== 'device') return null;
  const lower = word.toLowerCase();
  const uniqSorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort((a, b) => a.localeCompare(b));
  const nicks = (sep: string): string[] => {
    // Mid-line `@bo` stays `@bob`; at the start of a line it becomes the addressing form `bob: `.
    const typedAt = word.startsWith('@');
    const at = typedAt && before.trim() !== '' ? '@' : '';
    const prefix = typedAt ? lower.slice(1) : lower;
    return uniqSorted(ctx.nicks)
      .filter((n) => n.toLowerCase().startsWith(prefix))
      .map((n) => at + n + sep);
  };
  let candidates: string[];
  switch (kind) {
    case 'command': {
      const typed = lower.replace(/^\//, '');
      const slash = before.trim() === '' ? '/' : '';
      candidates = uniqSorted(commandNames())
        .filter((c) => c.startsWith(typed))
        .map((c) => `${slash}${c} `);
      break;
    }
    case 'room': {
      const typed = lower.replace(/^#/, '');
      candidates = uniqSorted(ctx.rooms)
        .filter((r) => r.toLowerCase().startsWith(typed))
        .map((r) => `#${r} `);
      break;
    }
    case 'emoji': {
      const q = lower.slice(1);
      candidates = searchEmoji(q, 200)
        .filter((e) => e.name.startsWith(q))
        .map((e) => `:${e.name}: `);
      break;
    }
    case 'nick':
      candidates = nicks(' ');
      break;
    case 'device': // ids are case-sensitive
      candidates = uniqSorted(ctx.devices ?? [])
        .filter((id) => id.startsWith(word))
        .map((id) => `${id} `);
      break;
    case 'text':
      candidates = nicks(before.trim() === '' ? ': ' : ' ');
      break;
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
