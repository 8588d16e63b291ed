// A single-line editor: text plus a cursor counted in graphemes. Pure; the view draws it.
import { displayWidth, graphemes } from './width.js';

export interface LineEditorState { text: string; cursor: number }

export class LineEditor {
  private parts: string[] = [];
  private pos = 0;

  get text(): string { return this.parts.join(''); }
  get cursor(): number { return this.pos; }

  set(text: string): void {
    this.parts = graphemes(text);
    this.pos = this.parts.length;
  }

  insert(s: string): void {
    // Re-segment around the cursor so combining marks and halves of surrogate pairs join up.
    const before = graphemes(this.parts.slice(0, this.pos).join('') + s);
    const after = this.parts.slice(this.pos);
    this.parts = graphemes(before.join('') + after.join(''));
    this.pos = Math.min(this.parts.length, before.length);
  }

  backspace(): void {
    if (this.pos === 0) return;
    this.parts.splice(this.pos - 1, 1);
    this.pos--;
  }

  del(): void { this.parts.splice(this.pos, 1); }
  left(): void { this.pos = Math.max(0, this.pos - 1); }
  right(): void { this.pos = Math.min(this.parts.length, this.pos + 1); }
  home(): void { this.pos = 0; }
  end(): void { this.pos = this.parts.length; }

  /** Ctrl+W: delete the word before the cursor. */
  killWord(): void {
    let i = this.pos;
    while (i > 0 && this.parts[i - 1] === ' ') i--;
    while (i > 0 && this.parts[i - 1] !== ' ') i--;
    this.parts.splice(i, this.pos - i);
    this.pos = i;
  }

  /** Ctrl+U: delete everything before the cursor. */
  killToStart(): void {
    this.parts.splice(0, this.pos);
    this.pos = 0;
  }

  /** Ctrl+K: delete from the cursor to the end. */
  killToEnd(): void { this.parts.splice(this.pos); }

  /**
   * The visible slice for a field `width` columns wide, scrolled so the cursor shows,
   * and the cursor's column within it. `mask` replaces every grapheme (passwords).
   */
  view(width: number, mask?: string): { text: string; cursorCol: number } {
    const parts = mask === undefined ? this.parts : this.parts.map(() => mask);
    const widths = parts.map(displayWidth);
    let start = 0;
    const colOf = (from: number, to: number): number => widths.slice(from, to).reduce((a, b) => a + b, 0);
    while (colOf(start, this.pos) > width - 1 && start < this.pos) start++;
    let end = start;
    let used = 0;
    while (end < parts.length && used + widths[end]! <= width) used += widths[end++]!;
    return { text: parts.slice(start, end).join(''), cursorCol: colOf(start, this.pos) };
  }
}
