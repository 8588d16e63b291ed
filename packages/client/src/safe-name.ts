// A network file name is display-only: it becomes one plain file name inside the chosen folder.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g; // zero-width, bidi marks and overrides
const RESERVED_CHARS = /[<>:"|?*]/g;
// Windows treats these as devices whatever follows a dot, and ignores trailing spaces before it;
// COM/LPT also take superscript digits.
export const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)\s*(\..*)?$/i;

/** The last path segment, stripped of controls, bidi and reserved characters; never empty, '.', '..' or a device name. */
export function safeFileName(name: string): string {
  const segments = name.split(/[/\\]/);
  let base = (segments[segments.length - 1] ?? '').normalize('NFC');
  base = base.replace(CONTROL, '').replace(INVISIBLE, '').replace(RESERVED_CHARS, '_');
  base = base.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '');
  if (base === '') base = 'file';
  if (WINDOWS_DEVICES.test(base)) base = `_${base}`;
  return shortened(base);
}

const MAX_BYTES = 200;
/** An ending this long or longer is not an extension worth keeping whole. */
const MAX_EXTENSION_BYTES = 32;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** At most MAX_BYTES of UTF-8: the stem is cut, whole characters at a time, so the extension stays. */
function shortened(name: string): string {
  if (Buffer.byteLength(name, 'utf8') <= MAX_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 && Buffer.byteLength(name.slice(dot), 'utf8') <= MAX_EXTENSION_BYTES ? name.slice(dot) : '';
  let room = MAX_BYTES - Buffer.byteLength(extension, 'utf8');
  let stem = '';
  for (const { segment } of graphemes.segment(name.slice(0, name.length - extension.length))) {
    room -= Buffer.byteLength(segment, 'utf8');
    if (room < 0) break;
    stem += segment;
  }
  return `${stem.replace(/[\s.]+$/, '') || 'file'}${extension}`;
}

/** Candidate names for auto-rename: "a.txt", "a (1).txt", "a (2).txt", ... */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}
