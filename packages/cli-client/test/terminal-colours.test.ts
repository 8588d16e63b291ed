// Under tmux and screen blessed found no terminfo it could read, fell back to 8-colour xterm, and
// drew every grey thing (timestamps, gutters, quotes, borders, hints) in black.
import blessed from 'blessed';
import { describe, expect, it } from 'vitest';
import { createScreen, terminalFor } from '../src/view/screen.js';
import { FakeInput, FakeOutput } from './helpers/fake-terminal.js';

/** How many colours blessed draws with (@types/blessed leaves it out). */
const colourCount = (screen: blessed.Widgets.Screen): number => (screen.tput as unknown as { colors: number }).colors;

describe('the terminal blessed drives', () => {
  it('is xterm-256color for a TERM or COLORTERM that says 256 colours or more', () => {
    for (const TERM of ['tmux-256color', 'screen-256color', 'rxvt-unicode-256color', 'xterm-256color', 'xterm-direct'])
      expect(terminalFor({ TERM }), TERM).toBe('xterm-256color');
    for (const COLORTERM of ['truecolor', '24bit', 'TrueColor'])
      expect(terminalFor({ TERM: 'xterm', COLORTERM }), COLORTERM).toBe('xterm-256color');
  });

  it('is TERM otherwise, and blessed chooses when there is no TERM (Windows)', () => {
    expect(terminalFor({ TERM: 'screen' })).toBe('screen');
    expect(terminalFor({ TERM: 'linux', COLORTERM: '' })).toBe('linux');
    expect(terminalFor({ TERM: 'xterm', COLORTERM: 'gnome-terminal' })).toBe('xterm');
    expect(terminalFor({})).toBeUndefined();
    expect(terminalFor({ TERM: '', COLORTERM: 'truecolor' })).toBeUndefined();
  });

  it('gives 256 colours under tmux', () => {
    const screen = createScreen({ input: new FakeInput(), output: new FakeOutput(), terminal: terminalFor({ TERM: 'tmux-256color' }) });
    try {
      expect(colourCount(screen)).toBe(256);
    } finally {
      screen.destroy();
    }
  });
});

/** What blessed writes to a terminal of `terminal` for a grey tag and a grey border. */
function drawnGrey(terminal: string): { colours: number; written: string } {
  const output = new FakeOutput();
  const screen = createScreen({ input: new FakeInput(), output, terminal });
  try {
    blessed.box({
      parent: screen,
      top: 0,
      left: 0,
      width: 20,
      height: 3,
      tags: true,
      border: { type: 'line' },
      style: { border: { fg: 'gray' } },
      content: '{gray-fg}12:34{/gray-fg} hi',
    });
    output.data = '';
    screen.render();
    (screen.program as unknown as { flush(): void }).flush(); // blessed writes on the next tick
    return { colours: colourCount(screen), written: output.data };
  } finally {
    screen.destroy();
  }
}

/** The last SGR sequence written before `text`. */
function sgrBefore(written: string, text: string): string | undefined {
  return written
    .slice(0, written.indexOf(text))
    .match(/\x1b\[[\d;]*m/g)
    ?.at(-1);
}

describe('grey', () => {
  it('is bright black with 8 colours, never black', () => {
    const { colours, written } = drawnGrey('xterm');
    expect(colours).toBe(8);
    expect(sgrBefore(written, '12:34')).toBe('\x1b[90m');
    expect(sgrBefore(written, 'qqqq')).toBe('\x1b[90m'); // the border
    expect(written).not.toMatch(/\x1b\[(?:[\d;]*;)?30m/);
  });

  it('is bright black with 256 colours', () => {
    const { colours, written } = drawnGrey('xterm-256color');
    expect(colours).toBe(256);
    expect(sgrBefore(written, '12:34')).toBe('\x1b[90m');
    expect(written).not.toMatch(/\x1b\[(?:[\d;]*;)?30m/);
  });
});
