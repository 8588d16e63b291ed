import { describe, expect, it } from 'vitest';
import { emojify, searchEmoji } from '../src/emoji.js';

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
