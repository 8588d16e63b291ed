// Wrap plain text by display width; blessed's own wrapping miscounts emoji, so we wrap first.
import { displayWidth, graphemes } from './width.js';

/**
 * Break `text` into lines of at most `width` columns. Breaks after spaces where it can,
 * otherwise between graphemes (never inside one). A grapheme wider than `width` gets its own line.
 */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, Math.floor(width));
  const lines: string[] = [];
  let line = '';
  let lineWidth = 0;
  // Last break opportunity on the current line: index into `line` after a space.
  let breakAt = -1;
  let widthAtBreak = 0;
  for (const g of graphemes(text)) {
    const gw = displayWidth(g);
    if (lineWidth + gw > w && line !== '') {
      if (g === ' ') {
        // A space at the break point is swallowed.
        lines.push(line.trimEnd());
        line = '';
        lineWidth = 0;
        breakAt = -1;
        continue;
      }
      if (breakAt > 0) {
        const head = line.slice(0, breakAt).trimEnd();
        if (head !== '') lines.push(head);
        line = line.slice(breakAt);
        lineWidth -= widthAtBreak;
        if (lineWidth + gw > w) {
          lines.push(line);
          line = '';
          lineWidth = 0;
        }
      } else {
        lines.push(line);
        line = '';
        lineWidth = 0;
      }
      breakAt = -1;
    }
    line += g;
    lineWidth += gw;
    if (g === ' ') {
      breakAt = line.length;
      widthAtBreak = lineWidth;
    }
  }
  if (line !== '' || lines.length === 0) lines.push(line);
  return lines;
}
