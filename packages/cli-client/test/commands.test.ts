import { describe, expect, it } from 'vitest';
import { COMMANDS, parseInput, suggestCommand, type Command } from '../src/commands.js';
import { helpLines } from '../src/help.js';

function ok(line: string): Command {
  const r = parseInput(line);
  if (!r.ok) throw new Error(`expected ok for ${line}: ${r.error}`);
  return r.command;
}
function err(line: string): string {
  const r = parseInput(line);
  if (r.ok) throw new Error(`expected error for ${line}`);
  return r.error;
}

describe('parseInput', () => {
  it.each<[string, Command]>([
    ['hello there', { kind: 'say', text: 'hello there' }],
    ['//etc/passwd is a path', { kind: 'say', text: '/etc/passwd is a path' }],
    ['/help', { kind: 'help', topic: undefined }],
    ['/help /join', { kind: 'help', topic: 'join' }],
    ['/join #lobby', { kind: 'join', room: 'lobby' }],
    ['/join dev', { kind: 'join', room: 'dev' }],
    ['/part', { kind: 'part', room: undefined }],
    ['/part #dev', { kind: 'part', room: 'dev' }],
    ['/rooms', { kind: 'rooms' }],
    ['/topic', { kind: 'topic', text: undefined }],
    ['/topic new  topic here', { kind: 'topic', text: 'new  topic here' }],
    ['/msg bob hi there', { kind: 'msg', user: 'bob', text: 'hi there' }],
    ['/msg @bob hi', { kind: 'msg', user: 'bob', text: 'hi' }],
    ['/query bob', { kind: 'query', user: 'bob' }],
    ['/me waves', { kind: 'me', text: 'waves' }],
    ['/away', { kind: 'away', text: undefined }],
    ['/away lunch', { kind: 'away', text: 'lunch' }],
    ['/back', { kind: 'back' }],
    ['/status coding', { kind: 'status', text: 'coding' }],
    ['/users', { kind: 'users' }],
    ['/history', { kind: 'history' }],
    ['/history 50', { kind: 'history', count: 50 }],
    ['/search foo bar', { kind: 'search', text: 'foo bar' }],
    ['/file /tmp/a b.txt', { kind: 'file', path: '/tmp/a b.txt' }],
    ['/accept', { kind: 'accept', fileId: undefined, dir: undefined }],
    ['/accept f1 /tmp/dl', { kind: 'accept', fileId: 'f1', dir: '/tmp/dl' }],
    ['/decline f1', { kind: 'decline', fileId: 'f1' }],
    ['/cancel', { kind: 'cancel', fileId: undefined }],
    ['/cancel f1', { kind: 'cancel', fileId: 'f1' }],
    ['/whois @bob', { kind: 'whois', user: 'bob' }],
    ['/unban bob', { kind: 'unban', user: 'bob' }],
    ['/unban --address 203.0.113.7', { kind: 'unban', address: '203.0.113.7' }],
    ['/verify bob', { kind: 'verify', user: 'bob' }],
    ['/kick bob spamming links', { kind: 'kick', user: 'bob', reason: 'spamming links' }],
    ['/ban bob', { kind: 'ban', user: 'bob', reason: undefined }],
    ['/mute bob', { kind: 'mute', user: 'bob' }],
    ['/mute bob 60', { kind: 'mute', user: 'bob', seconds: 60 }],
    ['/unmute bob', { kind: 'unmute', user: 'bob' }],
    ['/op bob', { kind: 'op', user: 'bob' }],
    ['/deop bob', { kind: 'deop', user: 'bob' }],
    ['/create #dev Dev talk', { kind: 'create', room: 'dev', topic: 'Dev talk' }],
    ['/clear', { kind: 'clear' }],
    ['/quit', { kind: 'quit' }],
    ['/QUIT', { kind: 'quit' }],
    ['/j #x', { kind: 'join', room: 'x' }],
  ])('%s', (line, expected) => {
    expect(ok(line)).toEqual(expected);
  });

  it.each(['/join', '/msg bob', '/msg', '/me', '/status', '/history abc', '/history -1', '/mute bob x', '/kick', '/verify', '/file', '/create', '/search',
    '/whois', '/whois a b', '/unban', '/unban --address', '/unban --addr x', '/unban a b', '/cancel a b'])(
    'usage error for %s', (line) => {
      expect(err(line)).toMatch(/^usage: \//);
    });

  it('unknown command gets a suggestion', () => {
    expect(err('/jion #x')).toMatch(/unknown command \/jion.*did you mean \/join\?/);
    expect(err('/qit')).toMatch(/did you mean \/quit/);
    expect(err('/zzzzzzzz')).toMatch(/unknown command \/zzzzzzzz \(\/help/);
  });

  it('/nick says it is not supported, and /help says so too', () => {
    expect(err('/nick bobby')).toMatch(/\/nick is not supported: a username is fixed/);
    expect(helpLines().join('\n')).toMatch(/\/nick is not supported/);
    expect(helpLines('nick')[0]).toMatch(/not supported/);
    expect(helpLines().join('\n')).toMatch(/\/cancel \[fileId\][\s\S]*\/whois nick[\s\S]*\/unban nick \| --address ADDR/);
  });

  it('empty input is not a message', () => {
    expect(parseInput('   ').ok).toBe(false);
  });

  it('every table entry is known to the parser', () => {
    for (const c of COMMANDS) {
      const r = parseInput(`/${c.name}`);
      if (!r.ok) expect(r.error).toBe(`usage: ${c.usage}`);
    }
  });

  it('suggests by prefix', () => {
    expect(suggestCommand('hist')).toBe('history');
  });
});
