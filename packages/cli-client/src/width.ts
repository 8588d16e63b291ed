// Display width in terminal columns, counted the way blessed lays out cells and terminals such as
// tmux advance the cursor: code point by code point. A wide code point (emoji, CJK) takes two
// columns, a mark or format character none, anything else one. Measuring graphemes instead (as
// string-width does) under-counts spacing marks and over-counts emoji with a variation selector,
// and rows measured one way but drawn another spill past the pane.
import { WIDE_RANGES } from './wide-ranges.js';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
/**
 * Code points drawn in no column of their own: marks, format characters, controls, and the vowels
 * and final consonants of a Hangul syllable spelt out in jamo (terminals join them to its first
 * consonant, as in text from macOS file names).
 */
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}\p{Cc}\u1160-\u11ff\ud7b0-\ud7ff]/u;

/** The grapheme clusters of `text`: the units that must never be split across lines. */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
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

export function isZeroWidthCodePoint(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0x300 && ZERO_WIDTH.test(String.fromCodePoint(cp)));
}

/** Columns of one code point. */
export function codePointWidth(cp: number): number {
  if (cp >= 0x20 && cp < 0x7f) return 1;
  if (isZeroWidthCodePoint(cp)) return 0;
  return isWideCodePoint(cp) ? 2 : 1;
}

export function displayWidth(text: string): number {
  let w = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      w++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    w += codePointWidth(cp);
  }
  return w;
}

/** Truncate to at most `width` columns, never splitting a grapheme; adds `…` when cut. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  for (const g of graphemes(text)) {
    const w = displayWidth(g);
    if (used + w > width - 1) break;
    out += g;
    used += w;
  }
  return `${out}…`;
}

/** Pad with spaces on the right to exactly `width` columns (truncating when longer). */
export function padRight(text: string, width: number): string {
  const t = truncate(text, width);
  return t + ' '.repeat(Math.max(0, width - displayWidth(t)));
}
