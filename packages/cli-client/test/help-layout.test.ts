import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/commands.js';
import { formatLine, moreBelowRow, panelWidths } from '../src/format.js';
import { helpLines, SERVER_SEES } from '../src/help.js';
import type { Line } from '../src/state.js';

const visible = (tagged: string): string => tagged.replace(/\{\/?[a-z-]+\}/g, '');
/** The message pane's width in a terminal `cols` wide (the chat view's two borders off). */
const paneWidth = (cols: number): number => {
  const { left, right } = panelWidths(cols);
  return cols - left - right - 2;
};
/** A help line as the pane shows it: one notice, wrapped by the pane. */
const rows = (text: string, width: number): string[] => {
  const notice: Line = { kind: 'notice', ts: Date.UTC(2026, 11, 7, 19, 21), level: 'info', text };
  return formatLine(notice, { width }).map(visible);
};
/** Words that cannot end a sentence: a line ending in one was cut in the middle of its sentence. */
const DANGLING = /\b(a|an|the|of|and|or|nor|to|their|its|his|her|our|your|in|on|by|for|with|from|but)$/i;

describe('/help lines are logical lines, wrapped by the pane', () => {
  const all = [...helpLines(), ...COMMANDS.flatMap((c) => helpLines(c.name))];

  it.each(all.map((l) => [l]))('%s: is whole (not a piece of a hard-wrapped sentence)', (line) => {
    expect(line.trimEnd()).not.toMatch(DANGLING);
    expect(line.trimEnd()).not.toMatch(/,$/);
    // Every bracket closes on the line that opens it.
    expect(line.split('(').length).toBe(line.split(')').length);
  });

  it('what the server sees is one line per paragraph', () => {
    expect(SERVER_SEES).toHaveLength(4);
    expect(SERVER_SEES.find((l) => l.includes('(every room'))).toContain('IP addresses');
    expect(SERVER_SEES.find((l) => l.startsWith('who reads a room'))).toContain('keep what only some may read in direct messages');
  });

  it('at 80 columns every help line wraps under its own stamp, and no paragraph leaves a word alone on a row', () => {
    const width = paneWidth(80);
    expect(width).toBe(62);
    for (const line of helpLines()) {
      const shown = rows(line, width);
      // One time stamp per help line, never a new one in the middle of a sentence.
      expect(shown[0]).toMatch(/^\d\d:\d\d -\*- /);
      for (const r of shown.slice(1)) expect(r).toMatch(/^ +┆ /);
      for (const r of shown) expect(r.length).toBeLessThanOrEqual(width);
      if (shown.length < 3) continue;
      const last = shown.at(-1)!.replace(/^ +┆ /, '');
      expect(last, `a word alone on the last row of "${line}"`).toContain(' ');
    }
    const paragraph = SERVER_SEES.flatMap((l) => rows(l, width));
    expect(paragraph.filter((r) => /^\d\d:\d\d /.test(r))).toHaveLength(SERVER_SEES.length);
  });
});

describe('the more-below row', () => {
  it('says the count when there is one, and no stray colon when there is none', () => {
    expect(visible(moreBelowRow(0, 40)).trimEnd()).toBe('↓ more below (PageDown)');
    expect(visible(moreBelowRow(3, 40)).trimEnd()).toBe('↓ more below: 3 new messages (PageDown)');
  });
});
