import { describe, expect, it } from 'vitest';
import { isEnding, publicState, transition, type Phase } from '../src/connection-state.js';
import { isHushError } from '../src/errors.js';

const PHASES: Phase[] = ['connecting', 'ready', 'loggingOut', 'reconnecting', 'resuming', 'closing', 'closed'];

/** Every allowed move, and nothing else. */
const ALLOWED = new Set([
  'connecting>ready',
  'connecting>closing',
  'ready>loggingOut',
  'ready>reconnecting',
  'ready>closing',
  'loggingOut>ready',
  'loggingOut>reconnecting',
  'loggingOut>closing',
  'reconnecting>resuming',
  'reconnecting>ready',
  'reconnecting>closing',
  'resuming>ready',
  'resuming>reconnecting',
  'resuming>closing',
  'closing>closed',
]);

describe('connection state machine', () => {
  it('allows exactly the listed transitions and refuses every other with INTERNAL', () => {
    for (const from of PHASES) {
      for (const to of PHASES) {
        if (ALLOWED.has(`${from}>${to}`)) {
          expect(transition(from, to)).toBe(to);
        } else {
          let error: unknown;
          try {
            transition(from, to);
          } catch (e) {
            error = e;
          }
          expect(isHushError(error, 'INTERNAL'), `${from} -> ${to}`).toBe(true);
        }
      }
    }
  });

  it('a drop, a resume, a logout and a close follow one path each', () => {
    const path = (...phases: Phase[]) => phases.reduce((from, to) => transition(from, to));
    expect(path('connecting', 'ready', 'reconnecting', 'resuming', 'reconnecting', 'resuming', 'ready')).toBe('ready');
    expect(path('ready', 'loggingOut', 'reconnecting', 'ready', 'closing', 'closed')).toBe('closed');
    expect(() => path('closed', 'ready')).toThrow();
    expect(() => path('closing', 'reconnecting')).toThrow();
  });

  it('shows the public state: logging out stays ready, resuming stays reconnecting, closing changes nothing', () => {
    expect(PHASES.map((p) => publicState(p))).toEqual([
      'connecting',
      'ready',
      'ready',
      'reconnecting',
      'reconnecting',
      undefined,
      'closed',
    ]);
    expect(PHASES.filter(isEnding)).toEqual(['closing', 'closed']);
  });
});
