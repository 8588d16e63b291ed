// Pastes: the terminal's bracketed-paste markers cut out of the key stream, and long text cut into
// messages the server accepts. Pure; the screen feeds the parser, the controller splits.

export const PASTE_START = '\x1b[200~';
export const PASTE_END = '\x1b[201~';
/** Terminal modes that turn bracketed paste on and off. */
export const BRACKETED_PASTE_ON = '\x1b[?2004h';
export const BRACKETED_PASTE_OFF = '\x1b[?2004l';
/** Pastes of more lines than this ask before they are sent (as WeeChat and irssi do). */
export const PASTE_CONFIRM_LINES = 5;

export type InputPiece = { kind: 'keys'; data: string } | { kind: 'paste'; text: string };

/** The longest suffix of `s` that is a proper prefix of `marker`: it may finish in the next chunk. */
function partialMarker(s: string, marker: string): number {
  for (let n = Math.min(marker.length - 1, s.length); n > 0; n--) if (marker.startsWith(s.slice(s.length - n))) return n;
  return 0;
}

/** Splits terminal input into typed keys and pasted text, whatever the chunking. */
export class BracketedPasteParser {
  private pasting = false;
  private pending = '';
  private pasted: string[] = [];

  feed(chunk: string): InputPiece[] {
    const out: InputPiece[] = [];
    let s = this.pending + chunk;
    this.pending = '';
    while (s !== '') {
      const marker = this.pasting ? PASTE_END : PASTE_START;
      const at = s.indexOf(marker);
      if (at < 0) {
        const keep = partialMarker(s, marker);
        this.take(s.slice(0, s.length - keep), out);
        this.pending = s.slice(s.length - keep);
        break;
      }
      this.take(s.slice(0, at), out);
      s = s.slice(at + marker.length);
      if (this.pasting) {
        out.push({ kind: 'paste', text: this.pasted.join('') });
        this.pasted = [];
      }
      this.pasting = !this.pasting;
    }
    return out;
  }

  /** Holding input back: inside a paste, or after what may be the start of a marker. */
  get open(): boolean {
    return this.pasting || this.pending !== '';
  }

  /** Inside a paste whose end marker has not come yet. */
  get inPaste(): boolean {
    return this.pasting;
  }

  /**
   * Ends an unfinished paste (the end marker never came: a terminal that lost it) as a paste of
   * what arrived, and an unfinished marker as keys, so input can never stay swallowed.
   */
  flush(): InputPiece[] {
    const out: InputPiece[] = [];
    if (this.pasting) {
      out.push({ kind: 'paste', text: this.pasted.join('') + this.pending });
    } else if (this.pending !== '') {
      out.push({ kind: 'keys', data: this.pending });
    }
    this.pasting = false;
    this.pasted = [];
    this.pending = '';
    return out;
  }

  private take(s: string, out: InputPiece[]): void {
    if (s === '') return;
    if (this.pasting) this.pasted.push(s);
    else out.push({ kind: 'keys', data: s });
  }
}

/** Pasted text with the terminal's line ends (CR, CRLF) as \n and no trailing line end. */
export function normalizePaste(text: string): string {
  return text.replace(/\r\n?/g, '\n').replace(/\n+$/, '');
}

export function lineCount(text: string): number {
  let n = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * `text` cut into pieces of at most `max` UTF-16 units, at the last line end in reach, else the
 * last space, else between code points; the line ends and spaces cut at are dropped.
 */
export function splitText(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    let cut = rest.lastIndexOf('\n', max);
    let skip = 1;
    if (cut <= 0) cut = rest.lastIndexOf(' ', max);
    if (cut <= 0) {
      cut = max;
      skip = 0;
      const code = rest.charCodeAt(cut - 1);
      if (code >= 0xd800 && code <= 0xdbff) cut--; // never split a surrogate pair
    }
    out.push(rest.slice(0, cut));
    rest = rest.slice(cut + skip);
  }
  if (rest !== '' || out.length === 0) out.push(rest);
  return out.filter((p, i) => p.trim() !== '' || (i === 0 && out.length === 1));
}
