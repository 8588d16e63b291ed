import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { appendPin, decidePin, findPin, keyChangedError, KnownServersFile, parseKnownServers, serverKey } from '../src/known-servers.js';

describe('known_servers parsing', () => {
  it('reads host:port fingerprint lines with comments, blanks and junk', () => {
    const text = '# pins\n\n127.0.0.1:5555 SHA512:aaa\nbad-line\n[::1]:7 SHA512:bbb\r\nx y z\n';
    expect(parseKnownServers(text)).toEqual([
      { server: '127.0.0.1:5555', fingerprint: 'SHA512:aaa', line: 3 },
      { server: '[::1]:7', fingerprint: 'SHA512:bbb', line: 5 },
    ]);
  });

  it('brackets IPv6 hosts in the server key', () => {
    expect(serverKey('::1', 5555)).toBe('[::1]:5555');
    expect(serverKey('chat.example', 1)).toBe('chat.example:1');
  });

  it('appends a pin on its own line', () => {
    expect(appendPin('', 'h:1', 'F')).toBe('h:1 F\n');
    expect(appendPin('a:1 X', 'h:1', 'F')).toBe('a:1 X\nh:1 F\n');
  });

  it('decides new / match / changed, first matching line wins', () => {
    const entries = parseKnownServers('h:1 SHA512:old\nh:1 SHA512:other\n');
    expect(findPin(entries, 'h:1')?.line).toBe(1);
    expect(decidePin(entries, 'h:2', 'SHA512:x')).toEqual({ status: 'new' });
    expect(decidePin(entries, 'h:1', 'SHA512:old')).toEqual({ status: 'match' });
    const changed = decidePin(entries, 'h:1', 'SHA512:new');
    expect(changed.status).toBe('changed');
  });

  it('the key-changed error shows both fingerprints and the line to edit', () => {
    const [known] = parseKnownServers('\nh:1 SHA512:old\n');
    const error = keyChangedError('/cfg/known_servers', 'h:1', known!, 'SHA512:new');
    expect(error.code).toBe('SERVER_KEY_CHANGED');
    expect(error.message).toContain('SHA512:old');
    expect(error.message).toContain('SHA512:new');
    expect(error.message).toContain('line 2 from /cfg/known_servers');
  });
});

describe('KnownServersFile', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  it('creates the file 0600 in a 0700 directory and appends pins', async () => {
    dir = await mkdtemp(join(tmpdir(), 'hush-ks-'));
    const file = new KnownServersFile(join(dir, 'config'));
    expect(await file.entries()).toEqual([]);
    await file.add('h:1', 'SHA512:a');
    await file.add('h:2', 'SHA512:b');
    expect(await readFile(file.path, 'utf8')).toBe('h:1 SHA512:a\nh:2 SHA512:b\n');
    if (process.platform !== 'win32') {
      expect((await stat(file.path)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, 'config'))).mode & 0o777).toBe(0o700);
    }
  });
});
