// `:smile:` shortcodes (node-emoji's names plus Slack/GitHub aliases) to emoji on send, and the
// picker's and completion's search. Only whole shortcodes:
// `http://x:80:y` and `12:30:45` stay intact, unknown codes stay as typed.
import * as emoji from 'node-emoji';

export interface EmojiEntry {
  name: string;
  emoji: string;
}

const CODE = /:([a-z0-9_+-]+):/gi;

/** Slack and GitHub names that node-emoji lacks (its own names stay first). */
const ALIASES: ReadonlyMap<string, string> = new Map(
  Object.entries({
    thumbsup: '👍',
    thumbs_up: '👍',
    thumbsdown: '👎',
    thumbs_down: '👎',
    simple_smile: '🙂',
    satisfied: '😆',
    thinking_face: '🤔',
    party_popper: '🎉',
    partying_face: '🥳',
    'star-struck': '🤩',
    hankey: '💩',
    shrug: '🤷',
    facepalm: '🤦',
    face_palm: '🤦',
    white_heart: '🤍',
    brown_heart: '🤎',
    face_with_rolling_eyes: '🙄',
    hugging_face: '🤗',
    smiling_face_with_tear: '🥲',
    melting_face: '🫠',
    saluting_face: '🫡',
    slightly_smiling: '🙂',
  }),
);

/** The emoji for a shortcode name (without colons), or undefined. */
export function emojiFor(name: string): string | undefined {
  const key = name.toLowerCase();
  return emoji.get(key) ?? ALIASES.get(key);
}
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
    const found = prevOk && nextOk ? emojiFor(m[1]!) : undefined;
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

const FAVOURITES = [
  'smile',
  'joy',
  'heart',
  '+1',
  'wave',
  'tada',
  'thinking',
  'rocket',
  'fire',
  'eyes',
  'pray',
  'sob',
  'wink',
  'ok_hand',
  'sunglasses',
  'coffee',
];

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
  const aliases = [...ALIASES].filter(([name]) => name.includes(q)).map(([name, e]) => ({ name, emoji: e }));
  return (
    emoji
      // search() builds a RegExp from a string: escape the user's query.
      .search(new RegExp(q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .map((r) => ({ name: r.name, emoji: r.emoji }))
      .concat(aliases)
      .sort((a, b) => rank(a.name) - rank(b.name) || a.name.length - b.name.length || a.name.localeCompare(b.name))
      .slice(0, limit)
  );
}
