// blessed 0.1.81's width tables predate most emoji and many marks: it draws 😄 as one column while
// terminals use two, and gives marks it does not know (U+1AB0...) a cell of their own while
// terminals stack them on the previous character, so every later cell of the row lands off by
// one. Teach it the widths of width.ts, which our wrapping uses. blessed keeps these in one
// shared module, patched once.
// A zero width joiner is never drawn: tmux stacks the character after one on the cell left of the
// cursor, wherever blessed has moved the cursor since, so 🏳️‍🌈 took one cell instead of three and
// the rest of its row, or a later draw elsewhere, landed off. A joined emoji is drawn as its parts
// (🏳️🌈, 👨👩👧👦), each as wide as width.ts counts it. A code point newer than Unicode 14 has no
// width every terminal agrees on (tmux 3.3a on Debian 12 gives 🩷 none, others two), so it is drawn
// as a stand-in of the width we count: 〓 for a wide one, � for a narrow one, nothing for a mark.
import { createRequire } from 'node:module';
import type blessed from 'blessed';
import { RECENT_RANGES } from '../recent-ranges.js';
import { WIDE_RANGES } from '../wide-ranges.js';
import { codePointWidth, isZeroWidthCodePoint } from '../width.js';

interface BlessedUnicode {
  charWidth(str: string | number, i?: number): number;
  codePointAt(str: string, i: number): number;
  combining: Record<number, boolean>;
  chars: { all: RegExp };
  __hushPatched?: boolean;
}

/** A character class of the code points in `ranges`. */
function rangeClass(ranges: ReadonlyArray<readonly [number, number]>): string {
  return `[${ranges.map(([a, b]) => `\\u{${a.toString(16)}}-\\u{${b.toString(16)}}`).join('')}]`;
}

/** A global regex with one group matching every wide code point (blessed appends a placeholder cell). */
export function wideCharRegExp(): RegExp {
  return new RegExp(`(${rangeClass(WIDE_RANGES)})`, 'gu');
}

const ZWJ = /\u200d/g;
const RECENT = new RegExp(rangeClass(RECENT_RANGES), 'gu');
const STAND_IN = ['', '\ufffd', '\u3013'];
const AFTER_PLACEHOLDER = /\x03([^\x00-\x7f]+)/g;
// Once blessed has parsed the tags, every `{` left is text (an escaped `{open}` or a brace it did
// not take as a tag), but its wrapping still reads `{|}` as "split the row left / right" (which
// throws in a row of unbounded width) and `{center}`, `{/right}`... at a row's ends as alignment,
// so remote text could crash hush or move and eat rows. hush lays its rows out itself and uses
// no alignment: while blessed wraps, each `{` is a control character (one column, like the brace;
// sanitize.ts keeps controls out of remote text), and it is a brace again in the rows drawn.
const BRACE = /\{/g;
const BRACE_STAND_IN = '\x01';
const STAND_IN_BRACE = /\x01/g;

/** What blessed stacks on the previous cell (its `combining` table, patched below). */
function joinsPrevious(cp: number): boolean {
  return cp >= 0xa0 && isZeroWidthCodePoint(cp);
}

/** Where the run of code points joining the previous cell that starts at `i` ends. */
function joinedEnd(text: string, i: number): number {
  let end = i;
  while (end < text.length) {
    const cp = text.codePointAt(end)!;
    if (!joinsPrevious(cp)) break;
    end += cp > 0xffff ? 2 : 1;
  }
  return end;
}

/**
 * What the terminal is given for `content`, as blessed has parsed it: no joiner, a stand-in of the
 * same width for each recent code point, and the marks after a wide character moved in front of
 * its \x03 placeholder, so they are drawn with it (blessed never draws a placeholder's cell).
 */
export function drawable(content: string): string {
  return content
    .replace(ZWJ, '')
    .replace(RECENT, (ch) => STAND_IN[codePointWidth(ch.codePointAt(0)!)]!)
    .replace(AFTER_PLACEHOLDER, (all, run: string) => {
      const end = joinedEnd(run, 0);
      return end === 0 ? all : `${run.slice(0, end)}\x03${run.slice(end)}`;
    });
}

export function patchBlessedUnicode(): void {
  const require = createRequire(import.meta.url);
  const unicode = require('blessed/lib/unicode') as BlessedUnicode;
  if (unicode.__hushPatched) return;
  const original = unicode.charWidth.bind(unicode);
  unicode.charWidth = (str: string | number, i?: number): number => {
    const cp = typeof str === 'number' ? str : unicode.codePointAt(str, i ?? 0);
    return cp === 0x09 ? original(str, i) : codePointWidth(cp);
  };
  // Marks and format characters join the previous cell (blessed looks them up as combining[cp]).
  // Controls stay out: blessed handles newlines and its own placeholder cells (\x03) itself.
  unicode.combining = new Proxy(unicode.combining, {
    get: (_table, key) => joinsPrevious(typeof key === 'string' ? Number(key) : NaN),
  });
  unicode.chars.all = wideCharRegExp();
  const Element = require('blessed/lib/widgets/element') as { prototype: WrappingElement };
  const wrapContent = Element.prototype._wrapContent;
  Element.prototype._wrapContent = function (this: WrappingElement, content: string, width: number) {
    const rows = wrapContent.call(this, drawable(content).replace(BRACE, BRACE_STAND_IN), width);
    for (const list of [rows, rows.fake]) for (let k = 0; k < list.length; k++) list[k] = list[k]!.replace(STAND_IN_BRACE, '{');
    return rows;
  };
  unicode.__hushPatched = true;
}

const SGR = /\x1b\[[\d;]*m/y;

/**
 * One row of blessed's parsed content (through drawable()) cut to `width` cells: SGR sequences
 * take none, a mark or format character none (it joins the previous cell), a wide character two
 * (itself, its marks and the \x03 placeholder blessed puts after it), anything else one.
 * Attributes after the cut are kept.
 */
export function clipRow(row: string, width: number): string {
  let out = '';
  let cells = 0;
  let i = 0;
  let cut = -1;
  while (i < row.length) {
    SGR.lastIndex = i;
    const sgr = SGR.exec(row);
    if (sgr) {
      out += sgr[0];
      i += sgr[0].length;
      continue;
    }
    const cp = row.codePointAt(i)!;
    const size = cp > 0xffff ? 2 : 1;
    // a wide character is followed by its marks, then its placeholder: all of it or nothing
    const placeholder = joinedEnd(row, i + size);
    const wide = row[placeholder] === '\x03' && !joinsPrevious(cp);
    const w = joinsPrevious(cp) ? 0 : wide ? 2 : 1;
    if (cells + w > width) {
      cut = i;
      break;
    }
    const next = wide ? placeholder + 1 : i + size;
    out += row.slice(i, next);
    cells += w;
    i = next;
  }
  return cut < 0 ? out : out + (row.slice(cut).match(/\x1b\[[\d;]*m/g) ?? []).join('');
}

interface WrappingElement {
  _wrapContent(content: string, width: number): string[] & { fake: string[] };
}

/**
 * blessed cuts each row of a `wrap: false` element after `width` UTF-16 units, so a row holding
 * astral emoji, marks or joiners loses its end although it fits the columns. For elements whose
 * rows are laid out by columns already (no alignment tags), cut by cells instead.
 */
export function clipRowsByColumns(element: blessed.Widgets.BlessedElement): void {
  const el = element as unknown as WrappingElement;
  const original = el._wrapContent.bind(el);
  el._wrapContent = (content, width) => {
    const rows = original(content, Number.MAX_SAFE_INTEGER);
    for (let k = 0; k < rows.length; k++) rows[k] = clipRow(rows[k]!, width);
    return rows;
  };
}
