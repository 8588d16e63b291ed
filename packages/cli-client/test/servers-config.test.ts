// Several server addresses in hush's flags, environment, config file and memory.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_FILE, formatServers, parseArgs, REMEMBERED_FILE, resolveLogin, splitServers, UsageError } from '../src/config.js';

const files =
  (entries: Record<string, string>) =>
  (path: string): string | undefined =>
    entries[path];
const resolve = (argv: string[], env: Record<string, string> = {}, read: (p: string) => string | undefined = () => undefined) =>
  resolveLogin({ argv, env, configDir: '/cfg', readFile: read }).defaults;

describe('server lists', () => {
  it('splits and formats "host:port,host:port" (IPv6 in brackets, spaces around commas allowed)', () => {
    expect(splitServers('a.example:5555, [::1]:6000,b.example')).toEqual([
      { host: 'a.example', port: 5555 },
      { host: '::1', port: 6000 },
      { host: 'b.example' },
    ]);
    expect(
      formatServers([
        { host: 'a.example', port: 5555 },
        { host: '::1', port: 6000 },
      ]),
    ).toBe('a.example:5555,[::1]:6000');
  });

  it('refuses an empty entry or a bad port, in words', () => {
    expect(() => splitServers('a,,b')).toThrow(new UsageError('empty address in the server list: a,,b'));
    expect(() => parseArgs(['--host', 'a:1,b:99999'])).toThrow(new UsageError('invalid port: 99999'));
  });

  it('--host: the first address is the server, the others its failover addresses (their port defaults to the server port)', () => {
    expect(parseArgs(['--host', 'a:6000,b,c:7000']).failover).toEqual([{ host: 'b' }, { host: 'c', port: 7000 }]);
    const d = resolve(['--host', 'a:6000,b,c:7000']);
    expect(d).toMatchObject({
      host: 'a',
      port: 6000,
      failover: [
        { host: 'b', port: 6000 },
        { host: 'c', port: 7000 },
      ],
    });
    expect(resolve(['--host', 'a', '--port', '6001'])).not.toHaveProperty('failover');
  });

  it('HUSH_HOST and the config file take a list too; the first source that names the server gives its list', () => {
    expect(resolve([], { HUSH_HOST: 'a:1,b:2' })).toMatchObject({ host: 'a', port: 1, failover: [{ host: 'b', port: 2 }] });
    const read = files({ [join('/cfg', CONFIG_FILE)]: JSON.stringify({ host: 'x,y:9', port: 7 }) });
    expect(resolve([], {}, read)).toMatchObject({ host: 'x', port: 7, failover: [{ host: 'y', port: 9 }] });
    expect(resolve([], { HUSH_HOST: 'a:1' }, read)).not.toHaveProperty('failover');
  });

  it('a bad list in the config file names the file and the key', () => {
    const read = files({ [join('/cfg', CONFIG_FILE)]: JSON.stringify({ host: 'x,' }) });
    expect(() => resolve([], {}, read)).toThrow(`config file ${join('/cfg', CONFIG_FILE)}: host: empty address in the server list: x,`);
  });

  it('the remembered server keeps its list; a damaged one is forgotten', () => {
    const remembered = (host: string) => files({ [join('/cfg', REMEMBERED_FILE)]: JSON.stringify({ host, port: 5555, user: 'al' }) });
    expect(resolve([], {}, remembered('a:5555,b:5556'))).toMatchObject({ host: 'a', port: 5555, failover: [{ host: 'b', port: 5556 }] });
    expect(resolve([], {}, remembered('a:5555,,'))).toMatchObject({ host: '127.0.0.1', port: 5555, user: 'al' });
  });
});
