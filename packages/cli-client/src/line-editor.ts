// The input line: text plus a cursor that sits on grapheme boundaries. Pure; the view draws it.
// Every operation touches only the text near the cursor, so editing and drawing a pasted
// 10,000-character line cost time linear in what changes or shows, never in the whole text.
import { displayWidth } from './width.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/** Longer than any grapheme cluster met in practice (ZWJ families, flags, stacked marks). */
const CLUSTER_WINDOW = 64;
/** How a newline in a multi-line input shows on the single input row. */
export const NEWLINE_MARK = '↵';

function isPlainAscii(code: number): boolean {
  return code >= 0x20 && code < 0x7f;
}

/** Grapheme clusters of `text`; printable ASCII (most text) is one cluster per character. */
function clusters(text: string): string[] {
  return /^[\x20-\x7e]*$/.test(text) ? text.split('') : Array.from(segmenter.segment(text), (s) => s.segment);
}

/** The grapheme cluster holding the code unit at `at` (< text.length), as [start, end). */
function clusterAt(text: string, at: number): { start: number; end: number } {
  if (isPlainAscii(text.charCodeAt(at)) && (at + 1 >= text.length || isPlainAscii(text.charCodeAt(at + 1))))
    return { start: at, end: at + 1 };
  const from = Math.max(0, at - CLUSTER_WINDOW);
  for (const s of segmenter.segment(text.slice(from, Math.min(text.length, at + CLUSTER_WINDOW)))) {
    const start = from + s.index;
    const end = start + s.segment.length;
    if (end > at) return { start, end };
  }
  return { start: at, end: at + 1 };
}

/** Columns of one grapheme; printable ASCII (most of any text) without the general routine. */
function graphemeWidth(g: string): number {
  if (g.length === 1) {
    const c = g.charCodeAt(0);
    if (c >= 0x20 && c < 0x7f) return 1;
  }
  return displayWidth(g);
}

export class LineEditor {
  private value = '';
  private pos = 0;

  get text(): string {
    return this.value;
  }
  /** UTF-16 offset of the cursor (always on a grapheme boundary). */
  get cursor(): number {
    return this.pos;
  }

  set(text: string): void {
    this.value = text;
    this.pos = text.length;
  }

  insert(s: string): void {
    if (s === '') return;
    this.value = this.pos === this.value.length ? this.value + s : this.value.slice(0, this.pos) + s + this.value.slice(this.pos);
    this.pos += s.length;
    this.snap();
  }

  /** A lone high surrogate waits for its pair; text inserted before a combining mark joins it. */
  private snap(): void {
    if (this.pos < this.value.length) {
      const c = clusterAt(this.value, this.pos);
      if (c.start !== this.pos) this.pos = c.end;
    }
  }

  /** Start of the grapheme before the cursor. */
  private prev(): number {
    return this.pos === 0 ? 0 : clusterAt(this.value, this.pos - 1).start;
  }

  /** End of the grapheme after the cursor. */
  private next(): number {
    return this.pos >= this.value.length ? this.value.length : clusterAt(this.value, this.pos).end;
  }

  private remove(from: number, to: number): void {
    this.value = this.value.slice(0, from) + this.value.slice(to);
    this.pos = from;
  }

  backspace(): void {
    if (this.pos > 0) this.remove(this.prev(), this.pos);
  }
  del(): void {
    if (this.pos < this.value.length) {
      const at = this.pos;
      this.remove(at, this.next());
    }
  }
  left(): void {
    this.pos = this.prev();
  }
  right(): void {
    this.pos = this.next();
  }
  home(): void {
    this.pos = 0;
  }
  end(): void {
    this.pos = this.value.length;
  }

  /** Ctrl+W: delete the word before the cursor. */
  killWord(): void {
    let i = this.pos;
    while (i > 0 && /\s/.test(this.value[i - 1]!)) i--;
    while (i > 0 && !/\s/.test(this.value[i - 1]!)) i--;
    this.remove(i, this.pos);
  }

  /** Ctrl+U: delete everything before the cursor. */
  killToStart(): void {
    this.remove(0, this.pos);
  }

  /** Ctrl+K: delete from the cursor to the end. */
  killToEnd(): void {
    this.value = this.value.slice(0, this.pos);
  }

  /**
   * The visible slice for a field `width` columns wide, scrolled so the cursor shows at the right
   * edge at most, and the cursor's column within it. `mask` replaces every grapheme (passwords);
   * newlines show as NEWLINE_MARK. Only about `width` graphemes around the cursor are looked at.
   */
  view(width: number, mask?: string): { text: string; cursorCol: number } {
    const shown = (g: string): string => (mask !== undefined ? mask : g === '\n' || g === '\r\n' ? NEWLINE_MARK : g === '\t' ? ' ' : g);
    // Back from the cursor while the text before it fits in width - 1 columns; the window of text
    // looked at grows only when wide clusters fill it before the columns are.
    let left: string[] = [];
    let col = 0;
    for (let span = width + CLUSTER_WINDOW; ; span *= 4) {
      const from = Math.max(0, this.pos - span);
      const behind = clusters(this.value.slice(from, this.pos)).map(shown);
      left = [];
      col = 0;
      let full = false;
      for (let i = behind.length - 1; i >= (from === 0 ? 0 : 1); i--) {
        const w = graphemeWidth(behind[i]!);
        if (col + w > width - 1) {
          full = true;
          break;
        }
        left.push(behind[i]!);
        col += w;
      }
      if (full || from === 0) break;
    }
    left.reverse();
    let used = col;
    const right: string[] = [];
    for (const c of clusters(this.value.slice(this.pos, this.pos + width * 4 + CLUSTER_WINDOW))) {
      const g = shown(c);
      const w = graphemeWidth(g);
      if (used + w > width) break;
      right.push(g);
      used += w;
    }
    return { text: left.join('') + right.join(''), cursorCol: col };
  }
}
