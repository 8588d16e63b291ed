import { describe, expect, it } from 'vitest';
import { LineEditor } from '../src/line-editor.js';

describe('LineEditor', () => {
  it('inserts, moves and deletes by grapheme', () => {
    const e = new LineEditor();
    e.insert('ab');
    e.insert('😄');
    expect(e.text).toBe('ab😄');
    expect(e.cursor).toBe(3);
    e.left();
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
    expect(e.cursor).toBe(1);
  });

  it('joins surrogate halves typed one at a time', () => {
    const e = new LineEditor();
    e.insert('\ud83d');
    e.insert('\ude04');
    expect(e.text).toBe('😄');
    expect(e.cursor).toBe(1);
  });

  it('kills words and lines', () => {
    const e = new LineEditor();
    e.set('hello big  world');
    e.killWord();
    expect(e.text).toBe('hello big  ');
    e.killWord();
    expect(e.text).toBe('hello ');
    e.set('abc def');
    e.home(); e.right();
    e.killToEnd();
    expect(e.text).toBe('a');
    e.set('abc def');
    e.left();
    e.killToStart();
    expect(e.text).toBe('f');
  });

  it('views a scrolled window with the cursor visible, and masks', () => {
    const e = new LineEditor();
    e.set('0123456789');
    expect(e.view(5)).toEqual({ text: '6789', cursorCol: 4 });
    e.home();
    expect(e.view(5)).toEqual({ text: '01234', cursorCol: 0 });
    e.set('secret');
    expect(e.view(20, '*')).toEqual({ text: '******', cursorCol: 6 });
  });
});
