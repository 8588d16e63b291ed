// blessed reads `{|}` in a row as "left part / right part" and `{center}`, `{/right}`... at a row's
// ends as alignment, after its tags are parsed, so escaped text was read too: `{|}` threw
// (RangeError) in the message pane and `{center}` moved rows. Any brace in hush's text is text.
import blessed from 'blessed';
import { describe, expect, it } from 'vitest';
import { escapeTags } from '../src/sanitize.js';
import { createScreen } from '../src/view/screen.js';
import { clipRowsByColumns } from '../src/view/unicode-patch.js';
import { appPerTest } from './helpers/fake-app.js';
import { FakeInput, FakeOutput, screenText, waitFor } from './helpers/fake-terminal.js';

const TRICKY = ['short {|}right', 'hello {|} world', '{|}', '{center}centred', 'ends {/right}', '{right}moved{/right}', 'after'];

/** The rows a 40-column tagged box draws for `lines` (escaped as hush escapes remote text). */
function drawn(lines: string[], clipped: boolean): string[] {
  const screen = createScreen({ input: new FakeInput(), output: new FakeOutput(), terminal: 'xterm-256color' });
  try {
    const box = blessed.box({ parent: screen, top: 0, left: 0, width: 40, height: lines.length, tags: true, wrap: false });
    if (clipped) clipRowsByColumns(box); // as the message pane
    box.setContent(lines.map(escapeTags).join('\n'));
    screen.render();
    return screenText(screen)
      .split('\n')
      .slice(0, lines.length)
      .map((row) => row.slice(0, 40).trimEnd());
  } finally {
    screen.destroy();
  }
}

describe('braces in text are never blessed alignment', () => {
  it('draws every row literally, from the left, in a clipped and in a plain box', () => {
    expect(drawn(TRICKY, true)).toEqual(TRICKY);
    expect(drawn(TRICKY, false)).toEqual(TRICKY);
  });

  it('keeps tags of its own working around a literal marker', () => {
    const screen = createScreen({ input: new FakeInput(), output: new FakeOutput(), terminal: 'xterm-256color' });
    try {
      const box = blessed.box({ parent: screen, top: 0, left: 0, width: 30, height: 1, tags: true, wrap: false });
      box.setContent(`{bold}<bob>{/bold} ${escapeTags('a {|} b {red-fg}')}`);
      screen.render();
      const row = (screen as unknown as { lines: Array<Array<[number, string]>> }).lines[0]!;
      expect(screenText(screen).split('\n')[0]!.trimEnd()).toBe('<bob> a {|} b {red-fg}');
      const bold = (cell: [number, string]) => ((cell[0] >> 18) & 1) === 1;
      expect(bold(row[1]!)).toBe(true);
      expect(bold(row[7]!)).toBe(false);
    } finally {
      screen.destroy();
    }
  });
});

describe('hush with `{|}` everywhere', () => {
  const { launch } = appPerTest();

  it('shows remote messages, the topic, a status, a file name and a typed line literally', async () => {
    const t = launch({ password: 'pw', autoLogin: true });
    t.session.rooms.set('lobby', { room: 'lobby', topic: 'welcome {|} all', kind: 'open', members: 2, joined: true });
    t.session.listUsers = async () => [{ user: 'bob', state: 'away', status: 'brb {|} lunch', role: 'user' }];
    await t.shows('welcome {|} all');
    const fromBob = { kind: 'room', ts: Date.now(), from: 'bob', room: 'lobby', action: false, mine: false } as const;
    for (const [i, text] of ['short {|}right', 'hello {|} world', '{center}centred'].entries())
      t.session.emit('message', { ...fromBob, id: `x${i}`, text });
    await t.shows('<bob> {center}centred');
    expect(t.text()).toContain('<bob> short {|}right');
    expect(t.text()).toContain('<bob> hello {|} world');
    t.type('/whois bob\r');
    await t.shows('presence: away — brb {|} lunch');
    t.type('{|}');
    await waitFor(() => t.inputLine().startsWith('> {|}'), `the typed marker in the input line:\n${t.text()}`);
    t.type('\r');
    await waitFor(() => t.session.calls.some((c) => c[0] === 'send' && c[2] === '{|}'), 'the send');
    await t.shows('<mia> {|}');
    t.session.emit('fileOffer', {
      fileId: 'f1',
      from: 'bob',
      target: { room: 'lobby' },
      name: 'a {|} b.txt',
      size: 1,
      e2e: false,
      ts: Date.now(),
    });
    await t.shows('bob offers "a {|} b.txt"');
  });
});
