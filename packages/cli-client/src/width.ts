// Display width in terminal columns: emoji and CJK take two, combining marks none.
import stringWidth from 'string-width';

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** The grapheme clusters of `text`: the units that must never be split across lines. */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

export function displayWidth(text: string): number {
  return stringWidth(text);
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
  return out + '…';
}

/** Pad with spaces on the right to exactly `width` columns (truncating when longer). */
export function padRight(text: string, width: number): string {
  const t = truncate(text, width);
  return t + ' '.repeat(Math.max(0, width - displayWidth(t)));
}
