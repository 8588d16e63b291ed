// A refusal for a mute says how long it lasts yet, from the server's time left (retryAfterMs).
import { describe, expect, it } from 'vitest';
import { errorText } from '../src/sdk.js';

const muted = (retryAfterMs?: number) =>
  Object.assign(new Error('muted in #den'), { code: 'MUTED', ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });

describe('a mute refusal in words', () => {
  it('says how long the mute lasts yet, in a unit a person reads', () => {
    expect(errorText(muted(25_400))).toBe('muted in #den for another 26 s [MUTED]');
    expect(errorText(muted(600_000))).toBe('muted in #den for another 10 min [MUTED]');
    expect(errorText(muted(5 * 3600_000))).toBe('muted in #den for another 5 h [MUTED]');
    expect(errorText(muted(3 * 86_400_000))).toBe('muted in #den for another 3 days [MUTED]');
  });
  it('a mute without an end says who ends it; without the server time left, nothing is guessed', () => {
    expect(errorText(muted(100 * 365 * 86_400_000))).toBe('muted in #den until an operator unmutes you [MUTED]');
    expect(errorText(muted())).toBe('muted in #den [MUTED]');
  });
});
