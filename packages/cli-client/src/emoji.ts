// `:smile:` shortcodes to emoji on send, and the picker's search. Only whole shortcodes:
// `http://x:80:y` and `12:30:45` stay intact, unknown codes stay as typed.
import * as emoji from 'node-emoji';

export interface EmojiEntry { name: string; emoji: string }

const CODE = /:([a-z0-9_+-]+):/gi;
const WORD = /[\p{L}\p{N}_]/u;

/** Replace whole, known `:name:` shortcodes with their emoji. */
export function emojify(text: string): string {
  let out = '';
  let copied = 0;
  let lastReplacedEnd = -1;
  CODE.lastIndex = 0;
  for (let m = CODE.exec(text); m !== null; m = CODE.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    const prev = start > 0 ? text[start - 1]! : '';
    const next = end < text.length ? text[end]! : '';
    const prevOk = prev === '' || (!WORD.test(prev) && prev !== '/' && (prev !== ':' || lastReplacedEnd === start));
    const nextOk = next === '' || !WORD.test(next);
    const found = prevOk && nextOk ? emoji.get(m[1]!.toLowerCase()) : undefined;
    if (found === undefined) {
      // The closing colon may open the next shortcode.
      CODE.lastIndex = end - 1;
      continue;
    }
    out += text.slice(copied, start) + found;
    copied = end;
    lastReplacedEnd = end;
  }
  return out + text.slice(copied);
}

export function emojiFor(name: string): string | undefined {
  return emoji.get(name.toLowerCase());
}

const FAVOURITES = ['smile', 'joy', 'heart', '+1', 'wave', 'tada', 'thinking', 'rocket', 'fire', 'eyes', 'pray', 'sob', 'wink', 'ok_hand', 'sunglasses', 'coffee'];

/** Picker search: exact name first, then prefix matches, then the rest; an empty query gives favourites. */
export function searchEmoji(query: string, limit = 50): EmojiEntry[] {
  const q = query.trim().toLowerCase().replace(/^:|:$/g, '');
  if (q === '') {
    return FAVOURITES.flatMap((name) => {
      const e = emoji.get(name);
      return e === undefined ? [] : [{ name, emoji: e }];
    }).slice(0, limit);
  }
  const rank = (name: string): number => (name === q ? 0 : name.startsWith(q) ? 1 : 2);
  return emoji
    // search() builds a RegExp from a string: escape the user's query.
    .search(new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .map((r) => ({ name: r.name, emoji: r.emoji }))
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.length - b.name.length || a.name.localeCompare(b.name))
    .slice(0, limit);
}
