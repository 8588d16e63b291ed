import { describe, expect, it } from 'vitest';
import { TabCompleter, completionsFor } from '../src/completion.js';

const ctx = { nicks: ['alice', 'alan', 'bob'], rooms: ['lobby', 'dev', 'design'] };

describe('completionsFor', () => {
  it('completes commands at line start', () => {
    expect(completionsFor('/jo', ctx)?.candidates).toEqual(['/join ']);
    expect(completionsFor('/q', ctx)?.candidates).toEqual(['/query ', '/quit ']);
  });
  it('completes nicks with ": " at line start and " " elsewhere', () => {
    expect(completionsFor('al', ctx)?.candidates).toEqual(['alan: ', 'alice: ']);
    expect(completionsFor('hi ali', ctx)).toEqual({ before: 'hi ', candidates: ['alice '] });
    expect(completionsFor('/msg b', ctx)?.candidates).toEqual(['bob ']);
    expect(completionsFor('@Bo', ctx)?.candidates).toEqual(['bob: ']);
    expect(completionsFor('thanks @Bo', ctx)).toEqual({ before: 'thanks ', candidates: ['@bob '] });
  });
  it("completes the account's other device ids after /devices remove, case-sensitively, not nicks", () => {
    const withDevices = { ...ctx, devices: ['lCz9ZX5JKi78-FKyngMAVA', 'V6HillMGfIeuPST2oE6DjA'] };
    expect(completionsFor('/devices remove l', withDevices)?.candidates).toEqual(['lCz9ZX5JKi78-FKyngMAVA ']);
    expect(completionsFor('/devices remove L', withDevices)).toBeNull();
    expect(completionsFor('/devices remove a', withDevices)).toBeNull();
    expect(completionsFor('/devices remove ', withDevices)?.candidates).toHaveLength(2);
    expect(completionsFor('/msg ', withDevices)).toBeNull();
    expect(completionsFor('/devices al', withDevices)?.candidates).toEqual(['alan ', 'alice ']);
  });
  it('completes rooms', () => {
    expect(completionsFor('/join #de', ctx)?.candidates).toEqual(['#design ', '#dev ']);
  });
  it('completes emoji shortcodes', () => {
    const c = completionsFor('nice :hear', ctx);
    expect(c?.candidates[0]).toBe(':heart: ');
    expect(completionsFor(':sm', ctx)?.candidates).toContain(':smile: ');
  });
  it('returns null when nothing matches or at a space', () => {
    expect(completionsFor('zz', ctx)).toBeNull();
    expect(completionsFor('hello ', ctx)).toBeNull();
    expect(completionsFor('', ctx)).toBeNull();
  });
});

describe('TabCompleter', () => {
  it('cycles on repeated Tab and restarts after edits', () => {
    const t = new TabCompleter();
    const first = t.tab('al', ctx);
    expect(first).toBe('alan: ');
    const second = t.tab(first, ctx);
    expect(second).toBe('alice: ');
    expect(t.tab(second, ctx)).toBe('alan: ');
    t.reset();
    expect(t.tab('b', ctx)).toBe('bob: ');
  });
  it('leaves the line alone with no match', () => {
    expect(new TabCompleter().tab('xyz', ctx)).toBe('xyz');
  });
});
