// blessed 0.1.81's width tables predate most emoji and many marks: it draws 😄 as one column while
// terminals use two, and gives marks it does not know (U+1AB0...) a cell of their own while
// terminals stack them on the previous character, so every later cell of the row lands off by
// one. Teach it the widths of width.ts, which our wrapping uses. blessed keeps these in one
// shared module, patched once.
import { createRequire } from 'node:module';
import { WIDE_RANGES } from '../wide-ranges.js';
import { codePointWidth, isZeroWidthCodePoint } from '../width.js';

interface BlessedUnicode {
  charWidth(str: string | number, i?: number): number;
  codePointAt(str: string, i: number): number;
  combining: Record<number, boolean>;
  chars: { all: RegExp };
  __hushPatched?: boolean;
}

/** A global regex with one group matching every wide code point (blessed appends a placeholder cell). */
export function wideCharRegExp(): RegExp {
  const cls = WIDE_RANGES.map(([a, b]) => `\\u{${a.toString(16)}}-\\u{${b.toString(16)}}`).join('');
  return new RegExp(`([${cls}])`, 'gu');
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
    get: (_table, key) => {
      const cp = typeof key === 'string' ? Number(key) : NaN;
      return cp >= 0xa0 && isZeroWidthCodePoint(cp);
    },
  });
  unicode.chars.all = wideCharRegExp();
  unicode.__hushPatched = true;
}
