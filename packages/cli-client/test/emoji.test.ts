import { describe, expect, it } from 'vitest';
import { completionsFor } from '../src/completion.js';
import { emojiFor, emojify, searchEmoji } from '../src/emoji.js';

describe('emojify', () => {
  it.each([
    [':smile:', '😄'],
    ['hi :smile: there', 'hi 😄 there'],
    [':smile::wink:', '😄😉'],
    ['(:smile:)', '(😄)'],
    [':SMILE:', '😄'],
    [':+1:', '👍'],
    ['http://x:80:y', 'http://x:80:y'],
    ['https://example.com:443:smile:', 'https://example.com:443:smile:'],
    ['12:30:45', '12:30:45'],
    ['at 12:100: ok', 'at 12:100: ok'],
    [':notanemoji:', ':notanemoji:'],
    ['a:smile:b', 'a:smile:b'],
    ['::1::', '::1::'],
    [':nope: :smile:', ':nope: 😄'],
    ['time :zz: :smile:', 'time :zz: 😄'],
    ['', ''],
    [':thumbsup: :thumbsdown: :+1: :-1:', '👍 👎 👍 👎'],
    [':tada::heart::joy::fire::rocket::eyes::white_check_mark:', '🎉❤️😂🔥🚀👀✅'],
    [':shrug: :facepalm: :Thinking_Face:', '🤷 🤦 🤔'],
    [':constructor: :__proto__: :toString:', ':constructor: :__proto__: :toString:'],
  ])('%s -> %s', (input, expected) => {
    expect(emojify(input)).toBe(expected);
  });
});

describe('searchEmoji', () => {
  it('puts exact and prefix matches first', () => {
    const r = searchEmoji('smile');
    expect(r[0]).toEqual({ name: 'smile', emoji: '😄' });
    expect(r.length).toBeGreaterThan(1);
  });
  it('accepts colons around the query and limits the result', () => {
    expect(searchEmoji(':heart', 3)).toHaveLength(3);
    expect(searchEmoji(':heart:', 3)[0]!.name).toBe('heart');
  });
  it('gives favourites for an empty query', () => {
    const r = searchEmoji('');
    expect(r.length).toBeGreaterThan(5);
    expect(r[0]!.name).toBe('smile');
  });
  it('finds nothing for garbage and treats regex characters literally', () => {
    expect(searchEmoji('qqqqzzzz')).toEqual([]);
    expect(searchEmoji('+1')[0]).toEqual({ name: '+1', emoji: '👍' });
    expect(searchEmoji('(')).toEqual([]);
  });
});

describe('Slack and GitHub shortcodes', () => {
  it("know the common names node-emoji lacks, and node-emoji's own names win", () => {
    for (const [name, e] of [
      ['thumbsup', '👍'],
      ['thumbsdown', '👎'],
      ['+1', '👍'],
      ['-1', '👎'],
      ['tada', '🎉'],
      ['joy', '😂'],
      ['fire', '🔥'],
      ['rocket', '🚀'],
      ['eyes', '👀'],
      ['white_check_mark', '✅'],
      ['simple_smile', '🙂'],
      ['hankey', '💩'],
      ['party_popper', '🎉'],
    ] as const) {
      expect(emojiFor(name), name).toBe(e);
    }
    expect(emojiFor('heart')).toBe(emojify(':heart:'));
    expect(emojiFor('hasOwnProperty')).toBeUndefined();
  });
  it('show in the picker and in tab completion', () => {
    expect(searchEmoji('thumbsup')[0]).toEqual({ name: 'thumbsup', emoji: '👍' });
    expect(searchEmoji('thumbs').map((e) => e.name)).toEqual(expect.arrayContaining(['thumbsup', 'thumbsdown']));
    expect(completionsFor('nice :thumbsu', { nicks: [], rooms: [] })?.candidates).toEqual([':thumbsup: ']);
    expect(completionsFor(':white_check', { nicks: [], rooms: [] })?.candidates).toEqual([':white_check_mark: ']);
  });
});
