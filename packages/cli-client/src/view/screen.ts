// The blessed screen over injected streams (process stdio in the CLI, fakes in tests).
import blessed from 'blessed';
import { patchBlessedUnicode } from './unicode-patch.js';

export interface ScreenOptions {
  input: NodeJS.ReadableStream;
  output: NodeJS.WritableStream;
  terminal?: string;
}

export function createScreen(opts: ScreenOptions): blessed.Widgets.Screen {
  patchBlessedUnicode();
  const screen = blessed.screen({
    // @types/blessed declares input and output the wrong way round.
    input: opts.input as unknown as blessed.Widgets.IScreenOptions['input'],
    output: opts.output as unknown as blessed.Widgets.IScreenOptions['output'],
    terminal: opts.terminal,
    smartCSR: true,
    fullUnicode: true,
    forceUnicode: true,
    autoPadding: false,
    warnings: false,
    title: 'hush',
    sendFocus: false,
  });
  return screen;
}

/** Ring the terminal bell. */
export function bell(screen: blessed.Widgets.Screen): void {
  screen.program.bel();
}

