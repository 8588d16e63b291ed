import { describe, expect, it } from 'vitest';
import { LineEditor, NEWLINE_MARK } from '../src/line-editor.js';

describe('LineEditor', () => {
  it('inserts, moves and deletes by grapheme', () => {
    const e = new LineEditor();
    e.insert('ab');
    e.insert('😄');
    expect(e.text).toBe('ab😄');
    expect(e.cursor).toBe(4);
    e.left();
    expect(e.cursor).toBe(2);
    e.insert('中');
    expect(e.text).toBe('ab中😄');
    e.backspace();
    e.backspace();
    expect(e.text).toBe('a😄');
    e.home();
    e.del();
    expect(e.text).toBe('😄');
    e.end();
    e.right();
    expect(e.cursor).toBe(2);
    e.set('👍🏽x');
    e.home();
    e.right();
    expect(e.cursor).toBe('👍🏽'.length);
    e.del();
    expect(e.text).toBe('👍🏽');
  });

  it('joins surrogate halves typed one at a time, and a combining mark with its letter', () => {
    const e = new LineEditor();
    e.insert('\ud83d');
    e.insert('\ude04');
    expect(e.text).toBe('😄');
    expect(e.cursor).toBe(2);
    e.set('e');
    e.insert('\u0301');
    e.backspace();
    expect(e.text).toBe('');
    e.set('\u0301x');
    e.home();
    e.insert('e');
    expect(e.cursor).toBe(2); // after the whole "é", not inside it
  });

  it('kills words and lines', () => {
    const e = new LineEditor();
    e.set('hello big  world');
    e.killWord();
    expect(e.text).toBe('hello big  ');
    e.killWord();
    expect(e.text).toBe('hello ');
    e.set('abc def');
    e.home();
    e.right();
    e.killToEnd();
    expect(e.text).toBe('a');
    e.set('abc def');
    e.left();
    e.killToStart();
    expect(e.text).toBe('f');
  });

  it('views a scrolled window with the cursor visible, masks, and marks newlines', () => {
    const e = new LineEditor();
    e.set('0123456789');
    expect(e.view(5)).toEqual({ text: '6789', cursorCol: 4 });
    e.home();
    expect(e.view(5)).toEqual({ text: '01234', cursorCol: 0 });
    e.set('secret');
    expect(e.view(20, '*')).toEqual({ text: '******', cursorCol: 6 });
    e.set('one\ntwo');
    expect(e.view(20)).toEqual({ text: `one${NEWLINE_MARK}two`, cursorCol: 7 });
    e.set('中中中');
    expect(e.view(5)).toEqual({ text: '中中', cursorCol: 4 });
  });

  it('takes a 10,000-character paste and draws it in time linear in the text (generous margin)', () => {
    const e = new LineEditor();
    const paste = 'lorem ipsum dolor sit amet '.repeat(400).slice(0, 10_000);
    const t0 = performance.now();
    e.insert(paste);
    const v = e.view(100);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(e.text).toBe(paste);
    expect(v.cursorCol).toBe(99);
    expect(paste.endsWith(v.text)).toBe(true);
    // a flood of single keys: each insert and redraw looks only near the cursor
    const flood = new LineEditor();
    const t1 = performance.now();
    for (const ch of paste) {
      flood.insert(ch);
      flood.view(100);
    }
    expect(flood.text).toBe(paste);
    expect(performance.now() - t1).toBeLessThan(10_000);
    // editing in the middle stays cheap too
    flood.home();
    for (let i = 0; i < 5000; i++) flood.right();
    const t2 = performance.now();
    for (let i = 0; i < 1000; i++) {
      flood.insert('x');
      flood.view(100);
    }
    expect(performance.now() - t2).toBeLessThan(10_000);
    expect(flood.text.length).toBe(11_000);
  });
});
