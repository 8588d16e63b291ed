// Keys read in one chunk with the one that opens a dialog (a fast typist over a laggy link, an
// auto-typer) go into that dialog, never under it to the input line; Ctrl+O never gives the keyboard
// to a people list that is not drawn. The whole app on a fake terminal, keys written as one chunk.
import { describe, expect, it } from 'vitest';
import { PEOPLE_HIDDEN } from '../src/view/chat-view.js';
import { appPerTest } from './helpers/fake-app.js';
import { waitFor } from './helpers/fake-terminal.js';

const app = appPerTest();
const CTRL_E = '\x05';
const CTRL_O = '\x0f';
const ALT_UP = '\x1b[1;3A';
const DOWN = '\x1b[B';

async function inLobby() {
  const t = await app.inLobby();
  await waitFor(() => /●.bob/.test(t.text()), `bob in the people list:\n${t.text()}`);
  return {
    ...t,
    calls: (name: string) => t.session.calls.filter((c) => c[0] === name),
    resize: (cols: number, rows: number) => {
      t.output.columns = cols;
      t.output.rows = rows;
      t.output.emit('resize');
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the emoji picker takes the keys typed with Ctrl+E', () => {
  it('Ctrl+E, a search and Enter in one chunk pick the emoji into the input line; nothing is sent', async () => {
    const t = await inLobby();
    t.type(`${CTRL_E}fire\r`);
    await waitFor(() => t.inputLine().includes('🔥'), `🔥 in the input line:\n${t.text()}`);
    expect(t.inputLine()).not.toContain('fire');
    expect(t.text()).not.toContain('search:'); // the picker closed with the pick
    await sleep(100);
    expect(t.calls('send')).toEqual([]);
  });

  it('what is typed on after the pick follows the emoji, and its Enter sends the two together', async () => {
    const t = await inLobby();
    t.type(`${CTRL_E}fire\r is hot\r`);
    await waitFor(() => t.calls('send').length === 1, 'one line sent');
    expect(t.calls('send')).toEqual([['send', 'lobby', '🔥 is hot']]);
    await waitFor(() => t.inputLine().trim() === '>', `the input line emptied:\n${t.text()}`);
  });

  it("the selection's + with a search and Enter in one chunk reacts with the pick; nothing is sent", async () => {
    const t = await inLobby();
    t.type('my own line\r');
    await t.shows('<mia> my own line');
    t.type(`${ALT_UP}+fire\r`);
    await waitFor(() => t.calls('react').length === 1, `the reaction:\n${t.text()}`);
    expect(t.calls('react')[0]?.[3]).toBe('🔥');
    expect(t.calls('send').map((c) => c[2])).toEqual(['my own line']);
    expect(t.text()).not.toContain('search:');
    expect(t.inputLine().trim()).toBe('>');
  });
});

describe('the delete question opens at once', () => {
  it('words typed in one chunk with d close it unanswered and go to the input line: no question is left open', async () => {
    const t = await inLobby();
    t.type('my own line\r');
    await t.shows('<mia> my own line');
    t.type(ALT_UP);
    await t.shows('message 1 selected');
    t.type('dhello');
    await t.shows('not deleted: answer the question with y or n');
    await waitFor(() => t.inputLine().includes('> hello'), `hello in the input line:\n${t.text()}`);
    expect(t.text()).not.toContain('delete message 1?');
    await sleep(600); // past the question's arming: a y now is typing, not an answer
    t.type('y');
    await waitFor(() => t.inputLine().includes('> helloy'), 'the y typed');
    expect(t.calls('delete')).toEqual([]);
  });
});

describe('a selection at 80 columns', () => {
  it('says it is on, with its keys, in the status bar: typing goes to those keys while it is', async () => {
    const t = await inLobby();
    t.type('my own line\r');
    await t.shows('<mia> my own line');
    t.resize(80, 24);
    await waitFor(() => !/●.bob/.test(t.text()), 'the narrow layout');
    t.type(ALT_UP);
    await t.shows('message 1 selected: r e d + Esc');
  });
});

describe('Ctrl+O where the people list is hidden', () => {
  it('says the list is hidden at this width and leaves the keyboard on the input line', async () => {
    const t = await inLobby();
    t.resize(80, 24);
    await waitFor(() => !/●.bob/.test(t.text()), 'the people list hidden');
    t.type(`${CTRL_O}hello\r`);
    await t.shows('the people list is hidden at this width');
    await waitFor(() => t.calls('send').length === 1, `hello sent:\n${t.text()}`);
    expect(t.calls('send')).toEqual([['send', 'lobby', 'hello']]);
    expect(t.calls('sendDirect')).toEqual([]);
    expect(t.text()).toContain('hush  #lobby');
    expect(t.text()).not.toContain('@bob');
    expect(PEOPLE_HIDDEN).toContain('/names lists them, /query nick opens a conversation');
  });

  it('made narrower while the list has the keyboard: the keyboard goes back to the input line', async () => {
    const t = await inLobby();
    t.type(CTRL_O);
    await sleep(50);
    t.type(DOWN); // the list has the keyboard
    await sleep(50);
    t.resize(80, 24);
    await waitFor(() => !/●.bob/.test(t.text()), 'the people list hidden');
    t.type('hello\r');
    await waitFor(() => t.calls('send').length === 1, `hello sent:\n${t.text()}`);
    expect(t.calls('send')).toEqual([['send', 'lobby', 'hello']]);
    expect(t.text()).toContain('hush  #lobby');
    expect(t.calls('sendDirect')).toEqual([]);
  });

  it('at a width that shows the list, Ctrl+O still gives it the keyboard: Enter opens bob (first, an operator)', async () => {
    const t = await inLobby();
    t.type(`${CTRL_O}\r`);
    await t.shows('hush  @bob');
    expect(t.text()).not.toContain('the people list is hidden');
  });
});
