// Wrap plain text by display width; blessed's own wrapping miscounts emoji, so we wrap first.
import { displayWidth, graphemes } from './width.js';

/**
 * The units a line may break between: graphemes, except that one wider than the line (a long
 * chain of joined emoji) is cut between its code points, each keeping the marks and joiners after it.
 */
function units(text: string, width: number): string[] {
  return graphemes(text).flatMap((g) =>
    g.length > 2 && displayWidth(g) > width ? (g.match(/[^\p{M}\p{Cf}][\p{M}\p{Cf}]*|[\p{M}\p{Cf}]+/gu) ?? [g]) : [g],
  );
}

/**
 * Break `text` into lines of at most `width` columns. Breaks after spaces where it can,
 * otherwise between graphemes (inside one only when it is wider than a line).
 */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, Math.floor(width));
  const lines: string[] = [];
  let line = '';
  let lineWidth = 0;
  // Last break opportunity on the current line: index into `line` after a space.
  let breakAt = -1;
  let widthAtBreak = 0;
  for (const g of units(text, w)) {
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
