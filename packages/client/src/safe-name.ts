// A network file name is display-only: it becomes one plain file name inside the chosen folder.

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g; // zero-width, bidi marks and overrides
const RESERVED_CHARS = /[<>:"|?*]/g;
// Windows treats these as devices whatever follows a dot, and ignores trailing spaces before it;
// COM/LPT also take superscript digits.
const WINDOWS_DEVICES = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)\s*(\..*)?$/i;

/** The last path segment, stripped of controls, bidi and reserved characters; never empty, '.', '..' or a device name. */
export function safeFileName(name: string): string {
  const segments = name.split(/[/\\]/);
  let base = (segments[segments.length - 1] ?? '').normalize('NFC');
  base = base.replace(CONTROL, '').replace(INVISIBLE, '').replace(RESERVED_CHARS, '_');
  base = base.replace(/^[\s.]+/, '').replace(/[\s.]+$/, '');
  if (base === '') base = 'file';
  if (WINDOWS_DEVICES.test(base)) base = `_${base}`;
  while (Buffer.byteLength(base, 'utf8') > 200) base = base.slice(0, -1);
  return base;
}

/** Candidate names for auto-rename: "a.txt", "a (1).txt", "a (2).txt", ... */
export function numberedName(name: string, n: number): string {
  if (n === 0) return name;
  const dot = name.lastIndexOf('.');
  return dot > 0 ? `${name.slice(0, dot)} (${n})${name.slice(dot)}` : `${name} (${n})`;
}
