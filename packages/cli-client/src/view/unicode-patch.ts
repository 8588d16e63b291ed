// blessed 0.1.81's width table predates most emoji: it draws 😄 as one column while terminals
// use two, so every later cell of the row lands one column off. Teach it the widths that
// string-width (and our wrapping) uses. blessed keeps these in one shared module, patched once.
import { createRequire } from 'node:module';
import { WIDE_RANGES } from './wide-ranges.js';

interface BlessedUnicode {
  charWidth(str: string | number, i?: number): number;
  codePointAt(str: string, i: number): number;
  chars: { all: RegExp };
  __hushPatched?: boolean;
}

export function isWideCodePoint(cp: number): boolean {
  let lo = 0;
  let hi = WIDE_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [a, b] = WIDE_RANGES[mid]!;
    if (cp < a) hi = mid - 1;
    else if (cp > b) lo = mid + 1;
    else return true;
  }
  return false;
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
    if (isWideCodePoint(cp)) return 2;
    return Math.min(1, original(str, i));
  };
  unicode.chars.all = wideCharRegExp();
  unicode.__hushPatched = true;
}
