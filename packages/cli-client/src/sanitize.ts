// Every string that came from the network passes through here before it reaches the terminal.
// Remote text must never move the cursor, retitle the window, touch the clipboard, reorder the
// line visually, or inject blessed tags: a line can never pretend to be another sender's line.
import { graphemes } from './width.js';

/** String-terminated sequences (OSC, DCS, SOS, PM, APC), 7-bit and 8-bit introducers, up to ST/BEL or the end. */
const STRING_SEQ = /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)/g;
/** CSI sequences, 7-bit (ESC [) and 8-bit (0x9B): parameters, intermediates, one final byte. */
const CSI_SEQ = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?/g;
/** Any other escape: ESC, optional intermediates, one final byte (ESC c resets the terminal). */
const OTHER_ESC = /\x1b[\x20-\x2f]*[\x30-\x7e]?/g;
/** C0 (except tab, handled before), DEL, C1, bidi embeddings/overrides/isolates and marks, line/paragraph separators. */
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;
/** Lone surrogates cannot be drawn and confuse width maths. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

const ZWJ = '\u200d';
const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;

/**
 * Zero-width joiners only survive inside emoji ZWJ sequences (👨‍👩‍👧): between two pictographs of one
 * grapheme. Anywhere else a ZWJ is invisible glue that can make two look-alike names differ.
 */
export function stripStrayJoiners(text: string): string {
  if (!text.includes(ZWJ)) return text;
  let out = '';
  for (const segment of graphemes(text)) {
    if (!segment.includes(ZWJ)) {
      out += segment;
      continue;
    }
    const points = [...segment];
    let seenPictograph = false;
    points.forEach((p, i) => {
      if (p !== ZWJ) {
        if (PICTOGRAPHIC.test(p)) seenPictograph = true;
        out += p;
        return;
      }
      const next = points[i + 1];
      if (seenPictograph && next !== undefined && PICTOGRAPHIC.test(next)) out += p;
    });
  }
  return out;
}

/**
 * Plain display text: escape sequences and control characters removed, tabs and line breaks
 * turned into spaces. Split multi-line messages on newlines before calling this.
 * The result contains no terminal controls but may contain `{`: escape before tagged rendering.
 */
export function stripControls(remote: string): string {
  return stripStrayJoiners(remote
    .replace(STRING_SEQ, '')
    .replace(CSI_SEQ, '')
    .replace(OTHER_ESC, '')
    .replace(/[\t\n\u2028\u2029]/g, ' ')
    .replace(CONTROLS, '')
    .replace(LONE_SURROGATE, '\ufffd'));
}

/** Escape blessed tags so `{red-fg}` shows literally. */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (ch) => (ch === '{' ? '{open}' : '{close}'));
}

/** A remote string ready to be placed in tagged blessed content. */
export function sanitize(remote: string): string {
  return escapeTags(stripControls(remote));
}

/** Split a multi-line remote text into lines (CRLF, LF; lone CR is removed later, never a line break). */
export function splitLines(remote: string): string[] {
  return remote.split(/\r?\n/);
}
