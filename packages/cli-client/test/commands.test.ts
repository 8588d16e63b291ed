import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS, commandNames, findCommand, INVITE_UNSUPPORTED, NICK_UNSUPPORTED, parseInput, suggestCommand } from '../src/commands.js';
import { helpLines } from '../src/help.js';

function ok(line: string): [string, unknown] {
  const r = parseInput(line);
  if (!r.ok) throw new Error(`expected ok for ${line}: ${r.error}`);
  return [r.command.name, r.args];
}
function err(line: string): string {
  const r = parseInput(line);
  if (r.ok) throw new Error(`expected error for ${line}`);
  return r.error;
}

describe('parseInput', () => {
  it.each<[string, string, unknown]>([
    ['hello there', 'say', { text: 'hello there' }],
    ['//etc/passwd is a path', 'say', { text: '/etc/passwd is a path' }],
    ['/say /not a command', 'say', { text: '/not a command' }],
    ['/help', 'help', { topic: undefined }],
    ['/help /join', 'help', { topic: 'join' }],
    ['/join #lobby', 'join', { room: 'lobby' }],
    ['/join dev', 'join', { room: 'dev' }],
    ['/part', 'part', { room: undefined }],
    ['/part #dev', 'part', { room: 'dev' }],
    ['/rooms', 'rooms', {}],
    ['/list', 'rooms', {}],
    ['/names', 'names', { room: undefined }],
    ['/names #dev', 'names', { room: 'dev' }],
    ['/topic', 'topic', { text: undefined }],
    ['/topic new  topic here', 'topic', { text: 'new  topic here' }],
    ['/msg bob hi there', 'msg', { user: 'bob', text: 'hi there' }],
    ['/msg @bob hi', 'msg', { user: 'bob', text: 'hi' }],
    ['/dm bob hi', 'msg', { user: 'bob', text: 'hi' }],
    ['/query bob', 'query', { user: 'bob' }],
    ['/me waves', 'me', { text: 'waves' }],
    ['/away', 'away', { text: undefined }],
    ['/away lunch', 'away', { text: 'lunch' }],
    ['/back', 'back', {}],
    ['/status coding', 'status', { text: 'coding' }],
    ['/users', 'users', {}],
    ['/who', 'users', {}],
    ['/history', 'history', { count: undefined }],
    ['/history 50', 'history', { count: 50 }],
    ['/search foo bar', 'search', { text: 'foo bar' }],
    ['/file /tmp/a b.txt', 'file', { text: '/tmp/a b.txt' }],
    ['/accept', 'accept', { file: undefined, dir: undefined }],
    ['/accept f1 /tmp/dl', 'accept', { file: 'f1', dir: '/tmp/dl' }],
    ['/decline f1', 'decline', { file: 'f1' }],
    ['/cancel', 'cancel', { file: undefined }],
    ['/cancel report.pdf', 'cancel', { file: 'report.pdf' }],
    ['/whois @bob', 'whois', { user: 'bob' }],
    ['/unban bob', 'unban', { user: 'bob' }],
    ['/unban --address 203.0.113.7', 'unban', { address: '203.0.113.7' }],
    ['/verify bob', 'verify', { user: 'bob' }],
    ['/kick bob spamming links', 'kick', { user: 'bob', reason: 'spamming links' }],
    ['/ban bob', 'ban', { user: 'bob', reason: undefined }],
    ['/mute bob', 'mute', { user: 'bob', seconds: undefined }],
    ['/mute bob 60', 'mute', { user: 'bob', seconds: 60 }],
    ['/unmute bob', 'unmute', { user: 'bob' }],
    ['/op bob', 'op', { user: 'bob' }],
    ['/deop bob', 'deop', { user: 'bob' }],
    ['/ignore', 'ignore', { user: undefined }],
    ['/ignore @Mallory', 'ignore', { user: 'mallory' }],
    ['/unignore mallory', 'unignore', { user: 'mallory' }],
    ['/retry', 'retry', {}],
    ['/create #dev Dev talk', 'create', { room: 'dev', topic: 'Dev talk' }],
    ['/clear', 'clear', {}],
    ['/quit', 'quit', {}],
    ['/QUIT', 'quit', {}],
    ['/exit', 'quit', {}],
    ['/j #x', 'join', { room: 'x' }],
  ])('%s', (line, name, args) => {
    expect(ok(line)).toEqual([name, args]);
  });

  it.each([
    '/join',
    '/msg bob',
    '/msg',
    '/me',
    '/history abc',
    '/history -1',
    '/mute bob x',
    '/kick',
    '/verify',
    '/file',
    '/create',
    '/search',
    '/whois',
    '/whois a b',
    '/unban',
    '/unban --address',
    '/unban --addr x',
    '/unban a b',
    '/join a b',
    '/unignore',
    '/say',
  ])('usage error for %s', (line) => {
    expect(err(line)).toMatch(/^usage: \//);
  });

  it('unknown command gets a suggestion', () => {
    expect(err('/jion #x')).toMatch(/unknown command \/jion.*did you mean \/join\?/);
    expect(err('/qit')).toMatch(/did you mean \/quit/);
    expect(err('/zzzzzzzz')).toMatch(/unknown command \/zzzzzzzz \(\/help/);
  });

  it('/nick says it is not supported, and /help says so too', () => {
    expect(err('/nick bobby')).toMatch(/\/nick is not supported: a username is fixed/);
    expect(helpLines().join('\n')).toMatch(/\/nick — is not supported/);
    expect(helpLines('nick')[0]).toMatch(/not supported/);
    expect(helpLines().join('\n')).toMatch(/\/whois nick[\s\S]*\/cancel \[name\|id\][\s\S]*\/unban nick \| --address ADDR/);
    expect(helpLines('list')[0]).toBe('/rooms — list the rooms on the server (also /list)');
  });

  it('states the rule for a name or a length the server would refuse, instead of sending it', () => {
    expect(ok('/join #Dev')).toEqual(['join', { room: 'dev' }]);
    expect(ok('/msg @Bob hi')).toEqual(['msg', { user: 'bob', text: 'hi' }]);
    expect(err('/join #no.dots')).toBe('"#no.dots" cannot be a room: a room name is 1 to 32 characters: a-z, 0-9, _ and -');
    expect(err('/msg x hi')).toMatch(/^no user is called "x": a username is 3 to 24 characters/);
    expect(err(`/topic ${'t'.repeat(301)}`)).toBe('the topic is 301 characters long; at most 300 fit');
    expect(err(`/status ${'s'.repeat(101)}`)).toMatch(/the status is 101 characters long; at most 100/);
    expect(err(`/kick bob ${'r'.repeat(201)}`)).toMatch(/the reason is 201 characters long; at most 200/);
    expect(ok(`/topic ${'t'.repeat(300)}`)[0]).toBe('topic');
  });

  it('says the allowed range where a number is out of it', () => {
    expect(ok('/mute bob 315360000')).toEqual(['mute', { user: 'bob', seconds: 315360000 }]);
    expect(err('/mute bob 99999999999')).toBe('a mute lasts at most 315360000 seconds (10 years); /mute nick alone lasts until /unmute');
    expect(err('/history 99999999')).toBe('usage: /history [n] — load n older messages (1 to 1000, default 50)');
    expect(err('/history -5')).toMatch(/1 to 1000/);
  });

  it('empty input is not a message', () => {
    expect(parseInput('   ').ok).toBe(false);
  });

  it('every table entry is known to the parser', () => {
    for (const c of COMMANDS) {
      const r = parseInput(`/${c.name}`);
      const unsupported = { nick: NICK_UNSUPPORTED, invite: INVITE_UNSUPPORTED }[c.name];
      if (!r.ok) expect(r.error).toBe(unsupported ?? `usage: ${c.usage} — ${c.help}`);
    }
  });

  it('/invite, with or without a name, says why none is needed instead of an unknown command', () => {
    for (const line of ['/invite', '/invite bob', '/INVITE bob #dev']) {
      expect(parseInput(line)).toEqual({ ok: false, error: INVITE_UNSUPPORTED });
    }
    expect(INVITE_UNSUPPORTED).toContain('every user of the server can see and join every room');
  });

  it('declares every name and alias once, and /help lists every command', () => {
    const names = COMMANDS.flatMap((c) => [c.name, ...(c.aliases ?? [])]);
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(findCommand(n)).toBeDefined();
    const help = helpLines().join('\n');
    for (const c of COMMANDS) expect(help).toContain(c.usage);
    expect(commandNames()).toEqual(COMMANDS.map((c) => c.name));
  });

  it('the README lists every command and alias', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const c of COMMANDS)
      for (const n of [c.name, ...(c.aliases ?? [])]) expect(readme, `/${n} in the README`).toMatch(new RegExp(`\`/${n}[ \`]`));
  });

  it('suggests by prefix', () => {
    expect(suggestCommand('hist')).toBe('history');
  });

  it('/upload and /sendfile are /file, as people coming from other chats type it', () => {
    for (const typed of ['/upload ~/notes.txt', '/sendfile ~/notes.txt', '/file ~/notes.txt']) {
      const parsed = parseInput(typed);
      expect(parsed.ok ? [parsed.command.name, parsed.args] : parsed).toEqual(['file', { text: '~/notes.txt' }]);
    }
  });

  it('suggests across a swap of two letters and among aliases; a lone / is said as such', () => {
    expect(err('/mgs bob hi')).toMatch(/did you mean \/msg\?/);
    expect(suggestCommand('jion')).toBe('join');
    expect(suggestCommand('lsit')).toBe('list');
    expect(err('/')).toMatch(/^a \/ alone is no command/);
    expect(err('/ hello')).not.toMatch(/did you mean/);
  });
});
