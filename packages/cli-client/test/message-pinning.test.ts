// The message a person chose (by the number on screen, or with Alt+Up) is the one acted on, whatever
// arrives meanwhile: the numbers freeze while a numbered command is in the input line, and /delete
// asks first, naming the message. (tmux-message-pinning.test.ts drives the same through real hush.)
import { describe, expect, it } from 'vitest';
import { ChatController, type UiHooks } from '../src/controller.js';
import { formatLines } from '../src/format.js';
import { selectionKey } from '../src/selection.js';
import type { ChatMessage } from '../src/sdk.js';
import { activeConversation, numberingOf } from '../src/state.js';
import { FakeClient, quietUi } from './helpers/fake-client.js';

const TS = Date.UTC(2026, 11, 7, 21, 39);

function setup() {
  const client = new FakeClient();
  const questions: string[] = [];
  let answer: (yes: boolean | null) => void = () => undefined;
  const ui: UiHooks = {
    ...quietUi(),
    confirm: (question) => {
      questions.push(question);
      return new Promise((resolve) => (answer = resolve));
    },
  };
  const ctl = new ChatController({ client, ui, downloadsDir: '/tmp', now: () => TS, readMarkDelayMs: 1 });
  return { client, ctl, questions, answer: (yes: boolean | null) => answer(yes) };
}

const room = (id: string, from: string, text: string): ChatMessage => ({
  kind: 'room',
  id,
  ts: TS,
  from,
  room: 'lobby',
  text,
  action: false,
  mine: from === 'me',
});

/** Keys typed into the input line, as the view hands them on. */
function type(ctl: ChatController, text: string): void {
  for (const ch of text) {
    ctl.editor.insert(ch);
    ctl.inputChanged();
  }
}

/** The pane's rows as drawn now (tags dropped), numbered as the view numbers them. */
function pane(ctl: ChatController): string[] {
  const conv = activeConversation(ctl.state);
  const numbered = ctl.messageNumbers.follow(conv, ctl.editor.text) ?? false;
  return formatLines(conv.lines, { width: 80, numbered }).map((r) => r.replace(/\{[^}]*\}/g, ''));
}

const lastNotice = (ctl: ChatController) => activeConversation(ctl.state).lines.at(-1);
const acts = (client: FakeClient) => client.calls.filter((c) => ['delete', 'edit', 'reply', 'react'].includes(c[0]));

async function twoOfMine() {
  const s = setup();
  await s.ctl.start();
  s.client.emit('message', room('w', 'me', 'WRONG-ONE me wants this deleted'));
  s.client.emit('message', room('k', 'me', 'KEEP me wants to keep this'));
  return s;
}

describe('a message named by its number stays the one acted on', () => {
  it('/delete 2 typed before a line arrives deletes the message numbered 2 on screen, after asking', async () => {
    const { client, ctl, questions, answer } = await twoOfMine();
    type(ctl, '/delete ');
    expect(pane(ctl).find((r) => r.includes('WRONG-ONE'))).toMatch(/^\[2\] \d\d:\d\d <me> WRONG-ONE/);
    client.emit('message', room('b', 'bob', 'bob talks again'));
    // The numbers hold: the new line has none, and 2 is still the one chosen.
    const rows = pane(ctl);
    expect(rows.find((r) => r.includes('bob talks again'))).toMatch(/^\d\d:\d\d <bob>/);
    expect(rows.find((r) => r.includes('WRONG-ONE'))).toMatch(/^\[2\] /);
    expect(rows.find((r) => r.includes('KEEP'))).toMatch(/^\[1\] /);
    type(ctl, '2');
    const done = ctl.submitInput();
    expect(questions).toEqual([expect.stringMatching(/^delete your message of \d\d:\d\d "WRONG-ONE me wants this…"\?$/)]);
    client.emit('message', room('b2', 'bob', 'and again while the question is open'));
    expect(acts(client)).toEqual([]); // nothing before the yes
    answer(true);
    await done;
    expect(acts(client)).toEqual([['delete', { room: 'lobby' }, 'w']]);
    expect(lastNotice(ctl)).toMatchObject({ kind: 'notice', text: expect.stringMatching(/^deleted your message of \d\d:\d\d$/) });
    ctl.stop();
  });

  it('/delete asks even without N; no, and a stray key, keep the message', async () => {
    const { client, ctl, questions, answer } = await twoOfMine();
    let done = ctl.submit('/delete');
    expect(questions.at(-1)).toMatch(/^delete your message of \d\d:\d\d "KEEP me wants to keep this"\?$/);
    answer(false);
    await done;
    expect(lastNotice(ctl)).toMatchObject({ kind: 'notice', text: 'not deleted' });
    done = ctl.submit('/delete 1');
    answer(null);
    await done;
    expect(lastNotice(ctl)).toMatchObject({ kind: 'notice', text: 'not deleted: answer the question with y or n' });
    expect(acts(client)).toEqual([]);
    ctl.stop();
  });

  it('/reply, /react and /reactions hit the message numbered on screen when the command was typed', async () => {
    const { client, ctl } = setup();
    await ctl.start();
    client.emit('message', room('q', 'bob', 'which day suits?'));
    client.emit('message', room('t', 'bob', 'and what time?'));
    type(ctl, '/reply 2 ');
    client.emit('message', room('x', 'bob', 'bob says another thing'));
    type(ctl, 'friday');
    await ctl.submitInput();
    expect(acts(client)).toEqual([['reply', { room: 'lobby' }, 'q', 'friday']]);

    type(ctl, '/react 2');
    client.emit('message', room('y', 'bob', 'yet another'));
    type(ctl, ' :thumbsup:');
    await ctl.submitInput();
    expect(acts(client).at(-1)).toEqual(['react', { room: 'lobby' }, 't', '👍', true]);

    type(ctl, '/reactions 3');
    client.emit('message', room('z', 'bob', 'and one more'));
    await ctl.submitInput();
    expect(lastNotice(ctl)).toMatchObject({ text: 'no reactions to bob: "and what time?"' });
    ctl.stop();
  });

  it('/edit puts back the text of the message chosen; the edit goes to it whatever arrived meanwhile', async () => {
    const { client, ctl } = setup();
    await ctl.start();
    client.emit('message', room('c1', 'me', 'first line C1'));
    client.emit('message', room('c2', 'me', 'second line C2'));
    type(ctl, '/edit 2');
    await ctl.submitInput(); // no text: the line comes back to change
    expect(ctl.editor.text).toBe('/edit 2 first line C1');
    client.emit('message', room('b', 'bob', 'bob arrives in between'));
    expect(pane(ctl).find((r) => r.includes('first line C1'))).toMatch(/^\[2\] /);
    type(ctl, ' (fixed)');
    await ctl.submitInput();
    expect(acts(client)).toEqual([['edit', { room: 'lobby' }, 'c1', 'first line C1 (fixed)']]);
    ctl.stop();
  });

  it('the numbers are those of now again once the command leaves the input line, or in another conversation', async () => {
    const { client, ctl } = setup();
    await ctl.start();
    client.emit('message', room('a', 'bob', 'older'));
    type(ctl, '/reply ');
    client.emit('message', room('b', 'bob', 'newer'));
    ctl.editor.set('');
    ctl.inputChanged();
    type(ctl, '/reply 1 to the newer');
    expect(pane(ctl).find((r) => r.includes('newer'))).toMatch(/^\[1\] /);
    await ctl.submitInput();
    expect(acts(client)).toEqual([['reply', { room: 'lobby' }, 'b', 'to the newer']]);

    type(ctl, '/reply ');
    client.emit('message', { kind: 'dm', id: 'd', ts: TS, from: 'bob', peer: 'bob', text: 'psst', action: false, mine: false });
    ctl.openDm('bob');
    type(ctl, '1 here');
    await ctl.submitInput();
    expect(acts(client).at(-1)).toEqual(['reply', { user: 'bob' }, 'd', 'here']);
    ctl.stop();
  });

  it('a selected message: d and + act on it, by the numbers it was selected with', async () => {
    const { client, ctl, questions, answer } = await twoOfMine();
    const conv = activeConversation(ctl.state);
    const numbers = numberingOf(conv);
    const step = selectionKey(conv, numbers, 'w', { full: 'd' }, 'me');
    expect(step).toEqual({ kind: 'run', command: '/delete 2' });
    client.emit('message', room('b', 'bob', 'bob talks again'));
    const done = ctl.submit('/delete 2', numbers);
    expect(questions.at(-1)).toMatch(/"WRONG-ONE me wants this…"\?$/);
    client.emit('message', room('b2', 'bob', 'bob again'));
    answer(true);
    await done;
    expect(acts(client)).toEqual([['delete', { room: 'lobby' }, 'w']]);

    expect(selectionKey(conv, numbers, 'k', { full: '+' }, 'me')).toEqual({ kind: 'react', n: 1 });
    await ctl.submit('/react 1 :tada:', numbers); // once the picker closes
    expect(acts(client).at(-1)).toEqual(['react', { room: 'lobby' }, 'k', '🎉', true]);
    ctl.stop();
  });
});

describe('/goto after a search', () => {
  it('says that the last search found nothing, and what it looked for', async () => {
    const { client, ctl } = setup();
    await ctl.start();
    await ctl.submit('/goto 1');
    expect(lastNotice(ctl)).toMatchObject({ text: 'no search yet: /search words first' });
    client.searchResults = [];
    await ctl.submit('/search -a typo');
    await ctl.submit('/goto 6');
    expect(lastNotice(ctl)).toMatchObject({ text: 'the last search ("typo") found nothing: /search words first' });
    ctl.stop();
  });

  it('a refused /reply or /edit keeps what was typed in the input line, to fix and send again; a plain line does not stay', async () => {
    const { client, ctl } = setup();
    await ctl.start();
    client.emit('message', room('1', 'bob', 'the only line'));
    type(ctl, '/reply 99 my long careful answer');
    await ctl.submitInput();
    expect(lastNotice(ctl)).toMatchObject({ kind: 'notice', text: expect.stringContaining('there is no message 99 here') });
    expect(ctl.editor.text).toBe('/reply 99 my long careful answer');
    ctl.editor.set('');
    type(ctl, '/reply 1 my long careful answer');
    await ctl.submitInput();
    expect(ctl.editor.text).toBe('');
    expect(client.calls.some((c) => c[0] === 'reply')).toBe(true);
    ctl.stop();
  });
});
