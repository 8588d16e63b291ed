import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, parseLogLevel, type LogLevel } from '../src/logger.js';

function capture(level: LogLevel) {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString('utf8')));
  const logger = createLogger({ level, stream });
  return { logger, lines: () => text.split('\n').filter(Boolean), raw: () => text };
}

describe('logger', () => {
  it('writes one JSON object per line with ts, level and event', () => {
    const { logger, lines } = capture('info');
    logger.info('listening', { port: 5555 });
    const [line] = lines();
    const rec = JSON.parse(line!) as Record<string, unknown>;
    expect(rec).toMatchObject({ level: 'info', event: 'listening', port: 5555 });
    expect(new Date(rec.ts as string).toISOString()).toBe(rec.ts);
  });

  it('filters by level; silent writes nothing', () => {
    const a = capture('warn');
    a.logger.debug('d');
    a.logger.info('i');
    a.logger.warn('w');
    a.logger.error('e');
    expect(a.lines().map((l) => (JSON.parse(l) as { event: string }).event)).toEqual(['w', 'e']);
    const s = capture('silent');
    s.logger.error('e');
    expect(s.raw()).toBe('');
    expect(parseLogLevel(' DEBUG ')).toBe('debug');
    expect(parseLogLevel('loud')).toBeUndefined();
  });

  it('escapes control and bidi characters so a line stays one line', () => {
    const { logger, raw, lines } = capture('info');
    logger.info('login_failed', { user: 'evil\n{"level":"error"}\u001b[2J\u202e\u0085' });
    expect(lines()).toHaveLength(1);
    expect(raw()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u0085\u202e]/);
    expect((JSON.parse(lines()[0]!) as { user: string }).user).toContain('evil');
  });

  it('redacts secret-looking fields and summarises bytes and errors', () => {
    const { logger, raw } = capture('debug');
    const err = Object.assign(new Error('boom'), { code: 'E_X' });
    logger.debug('x', {
      password: 'hunter2',
      passwordHash: 'scrypt$1',
      token: 't0k',
      body: 'hi',
      text: 'msg',
      nested: { secret: 's3' },
      bytes: new Uint8Array(9),
      err,
      big: 10n,
    });
    const out = raw();
    for (const secret of ['hunter2', 'scrypt$1', 't0k', '"hi"', '"msg"', 's3']) expect(out).not.toContain(secret);
    const rec = JSON.parse(out) as Record<string, unknown>;
    expect(rec).toMatchObject({
      password: '[redacted]',
      bytes: '<9 bytes>',
      err: { name: 'Error', message: 'boom', code: 'E_X' },
      big: '10',
    });
  });

  it('child loggers add their fields', () => {
    const { logger, lines } = capture('info');
    logger.child({ conn: 7 }).child({ user: 'alice' }).info('joined', { room: 'lobby' });
    expect(JSON.parse(lines()[0]!)).toMatchObject({ conn: 7, user: 'alice', room: 'lobby', event: 'joined' });
  });
});
