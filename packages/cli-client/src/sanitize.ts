// Every string that came from the network passes through here before it reaches the terminal.
// Remote text must never move the cursor, retitle the window, touch the clipboard, reorder the
// line visually, hide characters, start a line of its own, or inject blessed tags: a line can
// never pretend to be another sender's line. Two entry points: stripControls() for a single-line
// field (nick, topic, status, file name, reason...) and bodyLines() for a message body, the only
// remote text allowed to span lines.
import { graphemes } from './width.js';

/** String-terminated sequences (OSC, DCS, SOS, PM, APC), 7-bit and 8-bit introducers, up to ST/BEL or the end. */
const STRING_SEQ = /(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[\s\S]*?(?:\x07|\x1b\\|\x9c|$)/g;
/** CSI sequences, 7-bit (ESC [) and 8-bit (0x9B): parameters, intermediates, one final byte. */
const CSI_SEQ = /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?/g;
/** Any other escape: ESC, optional intermediates, one final byte (ESC c resets the terminal). */
const OTHER_ESC = /\x1b[\x20-\x2f]*[\x30-\x7e]?/g;
/** Line breaks and tabs: a single-line field shows them as a space. */
const BREAKS = /[\t\n\v\f\u0085\u2028\u2029]/g;
/** C0, DEL and C1 controls left after the above (a lone CR included: it never breaks a line). */
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;
/** Lone surrogates cannot be drawn and confuse width maths. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/**
 * Invisible characters: format characters (zero-width space, word joiner, BOM, bidi controls,
 * tags...) and the Hangul fillers, blank letters that terminals draw one or two columns wide.
 */
const FORMAT = /[\p{Cf}\u115f\u3164\uffa0]/u;
/** The soft hyphen is a hyphenation hint, no character: dropped (terminals disagree on its width). */
const SOFT_HYPHEN = /\u00ad/g;
/** What an invisible character shows as, so that nothing hides and nothing after it disappears. */
export const INVISIBLE_MARK = '\ufffd';
/** Marks kept on one character: enough for any script and emoji, too few to paint over other rows. */
export const MAX_MARKS = 4;
const MARK_FLOOD = new RegExp(`\\p{M}{${MAX_MARKS + 1},}`, 'gu');

const ZWJ = '\u200d';
const PICTOGRAPHIC = /\p{Extended_Pictographic}/u;
/** What may follow a pictograph inside one emoji: a mark (variation selector, keycap) or a skin tone. */
const EMOJI_TRAILER = /[\p{M}\p{Emoji_Modifier}]/u;
/** A subdivision flag (🏴 + tag letters + cancel tag), the one use of tag characters. */
const TAG_FLAG = /^\u{1f3f4}[\u{e0020}-\u{e007e}]+\u{e007f}$/u;

/**
 * Format characters only survive where emoji need them: a zero-width joiner between two
 * pictographs of one grapheme (👨‍👩‍👧), tag characters of a subdivision flag. Every other one is
 * shown as INVISIBLE_MARK: it could make two look-alike names differ or hide what follows.
 */
export function revealInvisible(text: string): string {
  if (!FORMAT.test(text)) return text;
  let out = '';
  for (const segment of graphemes(text)) {
    if (!FORMAT.test(segment) || TAG_FLAG.test(segment)) {
      out += segment;
      continue;
    }
    const points = [...segment];
    // A joiner is kept only right after a pictograph (and its marks or skin tone) and before another.
    let afterPictograph = false;
    points.forEach((p, i) => {
      if (!FORMAT.test(p)) {
        out += p;
        afterPictograph = PICTOGRAPHIC.test(p) || (afterPictograph && EMOJI_TRAILER.test(p));
      } else if (p === ZWJ && afterPictograph && PICTOGRAPHIC.test(points[i + 1] ?? '')) {
        out += p;
        afterPictograph = false;
      } else {
        out += INVISIBLE_MARK;
        afterPictograph = false;
      }
    });
  }
  return out;
}

/**
 * A remote single-line field as plain display text: escape sequences and controls removed,
 * line breaks and tabs turned into spaces, invisible characters revealed, mark floods cut.
 * The result may contain `{`: escape it before tagged rendering (or use sanitize()).
 */
export function stripControls(remote: string): string {
  const plain = remote
    .replace(STRING_SEQ, '')
    .replace(CSI_SEQ, '')
    .replace(OTHER_ESC, '')
    .replace(BREAKS, ' ')
    .replace(CONTROLS, '')
    .replace(SOFT_HYPHEN, '')
    .replace(LONE_SURROGATE, INVISIBLE_MARK)
    .replace(MARK_FLOOD, (run) => [...run].slice(0, MAX_MARKS).join(''));
  return revealInvisible(plain);
}

/**
 * A remote message body as display lines: split at LF, CRLF and the Unicode line and paragraph
 * separators (a lone CR is removed, never a line break), each line cleaned as a single-line field.
 */
export function bodyLines(remote: string): string[] {
  return remote.split(/\r?\n|[\u2028\u2029]/).map(stripControls);
}

/** Escape blessed tags so `{red-fg}` shows literally. */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (ch) => (ch === '{' ? '{open}' : '{close}'));
}

/** A remote single-line field ready to be placed in tagged blessed content. */
export function sanitize(remote: string): string {
  return escapeTags(stripControls(remote));
}
