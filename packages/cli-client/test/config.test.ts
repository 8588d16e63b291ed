import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CONFIG_FILE,
  parseArgs,
  parseConfigFile,
  parseRemembered,
  REMEMBERED_FILE,
  resolveLogin,
  splitHostPort,
  UsageError,
} from '../src/config.js';

const none = () => undefined;

describe('parseArgs', () => {
  it('reads every flag, with = or a separate value', () => {
    expect(
      parseArgs([
        '--host',
        'chat.example',
        '--port=6000',
        '--user',
        'alice',
        '--register',
        '--fingerprint',
        'SHA512:x',
        '--config',
        '/c.json',
        '--login',
      ]),
    ).toEqual({
      host: 'chat.example',
      port: 6000,
      user: 'alice',
      register: true,
      fingerprint: 'SHA512:x',
      config: '/c.json',
      login: true,
      help: false,
      version: false,
    });
  });
  it('takes host:port and [v6]:port', () => {
    expect(parseArgs(['--host', 'h:7000'])).toMatchObject({ host: 'h', port: 7000 });
    expect(splitHostPort('[::1]:5555')).toEqual({ host: '::1', port: 5555 });
    expect(splitHostPort('::1')).toEqual({ host: '::1' });
    expect(splitHostPort('chat.example.org.:443')).toEqual({ host: 'chat.example.org.', port: 443 });
    expect(splitHostPort('hush_server')).toEqual({ host: 'hush_server' });
  });
  it('refuses what is no host name or IP address before any lookup', () => {
    for (const bad of ['not a host!!', 'a..b', '-lead.example', 'x'.repeat(64)]) {
      expect(() => splitHostPort(bad), bad).toThrow(/is not a host name or an IP address/);
    }
    expect(() => splitHostPort('[not-v6]:5555')).toThrow('"not-v6" in brackets is not an IPv6 address');
  });
  it('refuses unknown flags, bad ports, missing values and --password', () => {
    expect(() => parseArgs(['--nope'])).toThrow(UsageError);
    expect(() => parseArgs(['--port', '70000'])).toThrow(/invalid port/);
    expect(() => parseArgs(['--user'])).toThrow(/needs a value/);
    expect(() => parseArgs(['--password', 'x'])).toThrow(/process list/);
    expect(() => parseArgs(['--password=x'])).toThrow(/process list/);
  });
  it('parses with node:util.parseArgs: short flags, the last value wins, one-line errors', () => {
    expect(parseArgs(['-u', 'bob', '-c', '/c.json', '--user=carol', '-h', '-V'])).toMatchObject({
      user: 'carol',
      config: '/c.json',
      help: true,
      version: true,
    });
    expect(() => parseArgs(['--nope'])).toThrow(new UsageError('unknown option: --nope'));
    expect(() => parseArgs(['stray'])).toThrow(new UsageError('unexpected argument: stray'));
    expect(() => parseArgs(['--login=yes'])).toThrow(new UsageError('--login takes no value'));
    expect(() => parseArgs(['--user', '--login'])).toThrow(
      new UsageError('--user needs a value; write --user=VALUE for a value starting with "-"'),
    );
  });
});

describe('parseConfigFile', () => {
  it('accepts known keys and ignores others', () => {
    expect(parseConfigFile('{"host":"h","port":1234,"user":"u","fingerprint":"f","theme":"dark"}', 'f.json')).toEqual({
      host: 'h',
      port: 1234,
      user: 'u',
      fingerprint: 'f',
      unknown: ['theme'],
    });
  });
  it('an unknown key is said on the form with the key it likely meant, and ignored', () => {
    const readFile = (p: string) => (p === '/cfg/hush.json' ? '{"hots": "chat.example.org", "user": "alice", "theme": 1}' : undefined);
    const { defaults } = resolveLogin({ argv: [], env: {}, configDir: '/cfg', readFile });
    expect(defaults.host).toBe('127.0.0.1');
    expect(defaults.notice).toBe('/cfg/hush.json: "hots" (did you mean "host"?), "theme": not a setting hush knows, ignored');
    expect(resolveLogin({ argv: [], env: {}, configDir: '/cfg', readFile: () => undefined }).defaults.notice).toBeUndefined();
  });
  it('refuses bad JSON and wrong types', () => {
    expect(() => parseConfigFile('{', 'f.json')).toThrow(/not valid JSON/);
    expect(() => parseConfigFile('[]', 'f.json')).toThrow(/JSON object/);
    expect(() => parseConfigFile('{"port":"80"}', 'f.json')).toThrow(/port: expected a number/);
    expect(() => parseConfigFile('{"user":1}', 'f.json')).toThrow(/user: expected a string/);
  });
  it('names the file and the key in every error (zod schema)', () => {
    const cases: [string, string][] = [
      ['{', 'config file /c/hush.json: not valid JSON (it ends too soon)'],
      ['', 'config file /c/hush.json: not valid JSON (the file is empty)'],
      ['{"host": "h",\n "port": 1,\n}', 'config file /c/hush.json: not valid JSON at line 3 column 1'],
      [
        '{"user": "alice", "password": "hunter22"}',
        'config file /c/hush.json: password: hush never reads a password from a file; remove it (type it in the form, or set $HUSH_PASSWORD)',
      ],
      ['[]', 'config file /c/hush.json: expected a JSON object'],
      ['{"port":"80"}', 'config file /c/hush.json: port: expected a number'],
      ['{"port":80.5}', 'config file /c/hush.json: port: expected a whole number'],
      ['{"port":70000}', 'config file /c/hush.json: port: expected a port from 1 to 65535'],
      ['{"user":1}', 'config file /c/hush.json: user: expected a string'],
      ['{"bell":"yes"}', 'config file /c/hush.json: bell: expected true or false'],
    ];
    for (const [json, message] of cases) expect(() => parseConfigFile(json, '/c/hush.json'), json).toThrow(new UsageError(message));
  });
});

describe('resolveLogin', () => {
  it('uses defaults without flags, env or file', () => {
    const { defaults } = resolveLogin({ argv: [], env: {}, configDir: '/cfg', readFile: none });
    expect(defaults).toEqual({
      host: '127.0.0.1',
      port: 5555,
      user: '',
      register: false,
      fingerprint: undefined,
      password: undefined,
      autoLogin: false,
    });
  });
  it('flags beat env beat the config file', () => {
    const files: Record<string, string> = {
      [join('/cfg', CONFIG_FILE)]: '{"host":"filehost","port":1111,"user":"fileuser","fingerprint":"SHA512:file"}',
    };
    const readFile = (p: string) => files[p];
    expect(resolveLogin({ argv: [], env: {}, configDir: '/cfg', readFile }).defaults).toMatchObject({
      host: 'filehost',
      port: 1111,
      user: 'fileuser',
      fingerprint: 'SHA512:file',
    });
    expect(
      resolveLogin({ argv: [], env: { HUSH_HOST: 'envhost:2222', HUSH_USER: 'envuser' }, configDir: '/cfg', readFile }).defaults,
    ).toMatchObject({ host: 'envhost', port: 2222, user: 'envuser' });
    expect(
      resolveLogin({ argv: ['--host', 'flaghost', '--user', 'flaguser'], env: { HUSH_HOST: 'envhost:2222' }, configDir: '/cfg', readFile })
        .defaults,
    ).toMatchObject({ host: 'flaghost', port: 2222, user: 'flaguser' });
  });
  it('takes the password only from HUSH_PASSWORD', () => {
    expect(resolveLogin({ argv: [], env: { HUSH_PASSWORD: 's3cret' }, configDir: '/cfg', readFile: none }).defaults.password).toBe(
      's3cret',
    );
    expect(resolveLogin({ argv: [], env: { HUSH_PASSWORD: '' }, configDir: '/cfg', readFile: none }).defaults.password).toBeUndefined();
  });
  it('an explicit --config must exist', () => {
    expect(() => resolveLogin({ argv: ['--config', '/missing.json'], env: {}, configDir: '/cfg', readFile: none })).toThrow(/not found/);
    expect(
      resolveLogin({
        argv: ['--config', '/x.json'],
        env: {},
        configDir: '/cfg',
        readFile: (p) => (p === '/x.json' ? '{"user":"x"}' : undefined),
      }).defaults.user,
    ).toBe('x');
  });
  it('falls back to the server and username of the last login, and reads an invite code', () => {
    const files: Record<string, string> = {
      [join('/cfg', REMEMBERED_FILE)]: '{"host":"chat.example","port":7000,"user":"alice","ignored":["mallory",3]}',
    };
    const readFile = (p: string) => files[p];
    const r = resolveLogin({ argv: [], env: {}, configDir: '/cfg', readFile });
    expect(r.defaults).toMatchObject({ host: 'chat.example', port: 7000, user: 'alice' });
    expect(r.remembered).toEqual({ host: 'chat.example', port: 7000, user: 'alice', ignored: ['mallory'] });
    // a host given now does not take the remembered port of another host
    expect(resolveLogin({ argv: ['--host', 'other'], env: {}, configDir: '/cfg', readFile }).defaults).toMatchObject({
      host: 'other',
      port: 5555,
      user: 'alice',
    });
    expect(resolveLogin({ argv: ['--invite', 'k3y'], env: {}, configDir: '/cfg', readFile: none }).defaults.invite).toBe('k3y');
    expect(resolveLogin({ argv: [], env: { HUSH_INVITE: 'k4y' }, configDir: '/cfg', readFile: none }).defaults.invite).toBe('k4y');
  });
  it('a damaged remembered file is an empty memory', () => {
    for (const text of [undefined, 'not json', '[]', '{"port":"x","user":5}']) expect(parseRemembered(text)).toEqual({ ignored: [] });
  });
});
