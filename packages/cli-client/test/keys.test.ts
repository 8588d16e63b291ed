import { describe, expect, it } from 'vitest';
import { LineEditor } from '../src/line-editor.js';
import { chatIntent, printable, typeInto } from '../src/view/keys.js';

describe('chatIntent', () => {
  it.each([
    ['C-c', { kind: 'quit' }],
    ['C-d', { kind: 'quit' }],
    ['enter', { kind: 'submit' }],
    ['tab', { kind: 'complete' }],
    ['up', { kind: 'historyPrev' }],
    ['down', { kind: 'historyNext' }],
    ['pageup', { kind: 'pageUp' }],
    ['pagedown', { kind: 'pageDown' }],
    ['M-1', { kind: 'switchIndex', index: 0 }],
    ['M-9', { kind: 'switchIndex', index: 8 }],
    ['M-0', { kind: 'switchIndex', index: 9 }],
    ['C-n', { kind: 'switchRelative', delta: 1 }],
    ['C-p', { kind: 'switchRelative', delta: -1 }],
    ['C-e', { kind: 'emojiPicker' }],
    ['C-o', { kind: 'focusMembers' }],
    ['C-w', { kind: 'edit', op: 'killWord' }],
  ])('%s', (full, intent) => {
    expect(chatIntent(undefined, { full })).toEqual(intent);
  });

  it('Ctrl+D quits from an empty input line only; on a draft it deletes the character under the cursor', () => {
    expect(chatIntent(undefined, { full: 'C-d' }, true)).toEqual({ kind: 'quit' });
    expect(chatIntent(undefined, { full: 'C-d' }, false)).toEqual({ kind: 'edit', op: 'delete' });
    expect(chatIntent(undefined, { full: 'C-c' }, false)).toEqual({ kind: 'quit' });
  });

  it('inserts printable characters, including emoji and CJK', () => {
    expect(chatIntent('a', { full: 'a', name: 'a' })).toEqual({ kind: 'insert', text: 'a' });
    expect(chatIntent('中', { full: '中' })).toEqual({ kind: 'insert', text: '中' });
    expect(chatIntent('😄', { full: '😄' })).toEqual({ kind: 'insert', text: '😄' });
  });

  it('ignores control characters and unbound modifiers', () => {
    expect(chatIntent('\x1b', { full: 'M-x', meta: true })).toEqual({ kind: 'none' });
    expect(printable('\x07', { full: 'C-g', ctrl: true })).toBeNull();
    expect(printable('\x9b', { full: 'x' })).toBeNull();
  });
});

describe('typeInto', () => {
  it('edits a text field with the same keys as the chat input line and types printable text', () => {
    const ed = new LineEditor();
    for (const ch of 'hello big world') typeInto(ed, ch, { full: ch });
    typeInto(ed, undefined, { full: 'C-w' });
    expect(ed.text).toBe('hello big ');
    typeInto(ed, undefined, { full: 'C-a' });
    typeInto(ed, undefined, { full: 'delete' });
    typeInto(ed, '\x07', { full: 'C-g', ctrl: true });
    expect(ed.text).toBe('ello big ');
    typeInto(ed, undefined, { full: 'end' });
    typeInto(ed, undefined, { full: 'backspace' });
    typeInto(ed, undefined, { full: 'C-u' });
    expect(ed.text).toBe('');
  });

  it('a paste copied with its line break loses the break, not turned into a trailing space', () => {
    const ed = new LineEditor();
    typeInto(ed, undefined, { full: 'paste', paste: 'correct horse\r\n' });
    expect(ed.text).toBe('correct horse');
  });
});
