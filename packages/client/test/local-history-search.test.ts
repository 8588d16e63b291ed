// Search over the device's local history: each word of the query finds words of the text that start
// with it (not the middle of a word), and messages that share a millisecond come newest first by id.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalHistory, queryMatcher } from '../src/local-history.js';

describe('queryMatcher', () => {
  it('matches each query word at the start of a word of the text, ignoring case', () => {
    const m = queryMatcher('cat')!;
    expect(['cat', 'Cats are here', 'a category', 'the (cat)', 'CAT!'].map(m)).toEqual([true, true, true, true, true]);
    expect(['concatenate', 'bobcat', 'scatter'].map(m)).toEqual([false, false, false]);
    const seven = queryMatcher('line 7')!;
    expect(['line 7', 'line 70', 'Line 7 of 9'].map(seven)).toEqual([true, true, true]);
    expect(['line 57', 'line 17', 'lines 8'].map(seven)).toEqual([false, false, false]);
  });

  it('takes punctuation and emoji as written, and words in any order', () => {
    expect(queryMatcher('example.com')!('see example.com today')).toBe(true);
    expect(queryMatcher('example.com')!('see exampleXcom today')).toBe(false); // the dot is a dot, not any character
    expect(queryMatcher('😄')!('ok😄')).toBe(true);
    expect(queryMatcher('#dev')!('moved to #dev')).toBe(true);
    expect(queryMatcher('failed deploy')!('the deploy failed')).toBe(true);
    expect(queryMatcher('été')!('un Été chaud')).toBe(true);
    expect(queryMatcher('   ')).toBeUndefined();
  });
});

describe('LocalHistory.search', () => {
  let dir = '';
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('lists messages of one millisecond newest first by server order (id 100 after id 99)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hush-search-'));
    const history = LocalHistory.for(dir, 'alice');
    const at = 1_767_225_600_000;
    for (const id of ['98', '99', '100', '101']) {
      history.record({ kind: 'room', id, ts: at, from: 'bob', room: 'lobby', text: `burst ${id}`, action: false, mine: false });
    }
    history.record({ kind: 'room', id: '102', ts: at + 1, from: 'bob', room: 'lobby', text: 'burst later', action: false, mine: false });
    expect((await history.search('burst')).map((r) => r.message.id)).toEqual(['102', '101', '100', '99', '98']);
  });
});
