import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { DEFAULT_CONFIG, DEFAULT_LIMITS, OPTIONS, resolveConfig } from '../src/config.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hush-config-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const resolveIn = (argv: string[], env: NodeJS.ProcessEnv = {}) => resolveConfig({ argv: ['--data-dir', dir, ...argv], env });

describe('resolveConfig', () => {
  it('uses the defaults: 127.0.0.1:5555, open registration, metrics off', () => {
    const c = resolveIn([]);
    expect(c).toEqual({ ...DEFAULT_CONFIG, dataDir: dir, limits: DEFAULT_LIMITS });
    expect(c.host).toBe('127.0.0.1');
    expect(c.port).toBe(5555);
    expect(c.metricsPort).toBeNull();
    expect(c.retentionMs).toBeNull();
    expect(c.scryptN).toBe(2 ** 17);
  });

  it('defaults the data directory to the platform data dir (XDG on Linux)', () => {
    const c = resolveConfig({ argv: [], env: {} });
    expect(c.dataDir).toMatch(/hush[\\/]server$/);
  });

  it('applies flags > HUSH_* env > config file > defaults', () => {
    writeFileSync(
      join(dir, 'hushd.json'),
      JSON.stringify({
        port: 1111,
        host: '0.0.0.0',
        logLevel: 'warn',
        registration: 'invite',
        limits: { maxConnections: 7, messagesPerSecond: 3 },
      }),
    );
    const env = { HUSH_PORT: '2222', HUSH_LOG_LEVEL: 'debug', HUSH_MAX_CONNECTIONS: '8' };
    const c = resolveIn(['--port', '3333', '--max-connections=9'], env);
    expect(c.port).toBe(3333); // flag beats env and file
    expect(c.logLevel).toBe('debug'); // env beats file
    expect(c.host).toBe('0.0.0.0'); // file beats default
    expect(c.registration).toBe('invite');
    expect(c.limits.maxConnections).toBe(9);
    expect(c.limits.messagesPerSecond).toBe(3);
    expect(c.limits.byteBurst).toBe(DEFAULT_LIMITS.byteBurst);
    expect(resolveIn([], env).port).toBe(2222);
    expect(resolveIn([], env).limits.maxConnections).toBe(8);
    expect(resolveIn([]).port).toBe(1111);
  });

  it('reads the signal and file byte budgets from the config file, with sizes in words', () => {
    writeFileSync(
      join(dir, 'hushd.json'),
      JSON.stringify({ limits: { signalsPerSecond: 4, signalBurst: 12, fileBytesPerSecond: '8M', fileByteBurst: '24M' } }),
    );
    const c = resolveIn([]);
    expect([c.limits.signalsPerSecond, c.limits.signalBurst, c.limits.fileBytesPerSecond, c.limits.fileByteBurst]).toEqual([
      4,
      12,
      8 * 1024 * 1024,
      24 * 1024 * 1024,
    ]);
    expect(c.limits.messagesPerSecond).toBe(DEFAULT_LIMITS.messagesPerSecond);
    writeFileSync(join(dir, 'hushd.json'), JSON.stringify({ limits: { signalBurst: 0 } }));
    expect(() => resolveIn([])).toThrow(/limits\.signalBurst: expected an integer from 1/);
  });

  it('reads an explicit --config / HUSH_CONFIG file, whose dataDir is relative to it', () => {
    const file = join(dir, 'etc', 'custom.json');
    mkdirSync(join(dir, 'etc'));
    writeFileSync(file, JSON.stringify({ dataDir: '../state', port: 4444 }));
    const c = resolveConfig({ argv: ['--config', file], env: {} });
    expect(c.dataDir).toBe(join(dir, 'state'));
    expect(c.port).toBe(4444);
    expect(resolveConfig({ argv: [], env: { HUSH_CONFIG: file } }).port).toBe(4444);
    expect(resolveConfig({ argv: ['--config', file, '--data-dir', dir], env: {} }).dataDir).toBe(dir);
    expect(() => resolveConfig({ argv: ['--config', join(dir, 'missing.json')], env: {} })).toThrow(/does not exist/);
  });

  it('takes the store from --store, HUSH_STORE or "store" in the file: SQLite by default, the URL never in an error', () => {
    const url = 'postgres://hush:s3cret@db.example.net:5432/hush?sslmode=verify-full';
    expect(resolveIn([]).store).toBeNull();
    expect(resolveIn(['--store', url]).store).toBe(url);
    expect(resolveIn([], { HUSH_STORE: 'postgresql://hush@db/hush' }).store).toBe('postgresql://hush@db/hush');
    writeFileSync(join(dir, 'hushd.json'), JSON.stringify({ store: 'postgres://file@db/hush' }));
    expect(resolveIn([]).store).toBe('postgres://file@db/hush');
    expect(resolveIn(['--store', 'sqlite']).store).toBeNull();
    expect(() => resolveIn(['--store', 'mysql://hush:s3cret@db/hush'])).toThrow(ConfigError);
    expect(() => resolveIn(['--store', 'mysql://hush:s3cret@db/hush'])).toThrow(/^--store: expected a postgres:\/\/.*URL, or "sqlite"$/);
    expect(() => resolveIn([], { HUSH_STORE: 'hush:s3cret@db' })).not.toThrow(/s3cret/);
  });

  it('takes the bus from --bus, HUSH_BUS or "bus" in the file: local by default, the URLs never in an error', () => {
    expect(resolveIn([]).bus).toBeNull();
    expect(resolveIn(['--bus', 'nats://a:4222, nats://hush:s3cret@b:4222']).bus).toEqual(['nats://a:4222', 'nats://hush:s3cret@b:4222']);
    expect(resolveIn([], { HUSH_BUS: 'tls://nats.example.net:4222' }).bus).toEqual(['tls://nats.example.net:4222']);
    writeFileSync(join(dir, 'hushd.json'), JSON.stringify({ bus: ['nats://file:4222'], busCa: '/etc/hush/nats-ca.pem' }));
    expect(resolveIn([])).toMatchObject({ bus: ['nats://file:4222'], busCa: '/etc/hush/nats-ca.pem' });
    expect(resolveIn(['--bus', 'local']).bus).toBeNull();
    expect(() => resolveIn(['--bus', 'http://hush:s3cret@b:4222'])).toThrow(/^--bus: expected nats:\/\/host:4222 URLs/);
    expect(() => resolveIn([], { HUSH_BUS: 'hush:s3cret@b' })).not.toThrow(/s3cret/);
  });

  it('takes the data dir from HUSH_DATA_DIR and finds hushd.json there', () => {
    writeFileSync(join(dir, 'hushd.json'), JSON.stringify({ port: 6000 }));
    const c = resolveConfig({ argv: [], env: { HUSH_DATA_DIR: dir } });
    expect(c.dataDir).toBe(dir);
    expect(c.port).toBe(6000);
  });

  it('parses durations, sizes and the off/forever words', () => {
    const c = resolveIn([
      '--retention',
      '90d',
      '--file-retention',
      '12h',
      '--shutdown-timeout',
      '1500ms',
      '--max-file-size',
      '5M',
      '--metrics-port',
      '0',
    ]);
    expect(c.retentionMs).toBe(90 * 86_400_000);
    expect(c.fileRetentionMs).toBe(12 * 3_600_000);
    expect(c.shutdownTimeoutMs).toBe(1500);
    expect(c.maxFileSize).toBe(5 * 1024 * 1024);
    expect(c.metricsPort).toBe(0);
    const d = resolveIn(['--retention', 'forever', '--metrics-port', 'off'], { HUSH_RETENTION: '1d', HUSH_METRICS_PORT: '9100' });
    expect(d.retentionMs).toBeNull();
    expect(d.metricsPort).toBeNull();
    writeFileSync(
      join(dir, 'hushd.json'),
      JSON.stringify({ retentionMs: 60_000, metricsPort: null, limits: { idleTimeoutMs: '2m', maxQueueBytes: '1M' } }),
    );
    const e = resolveIn([]);
    expect(e.retentionMs).toBe(60_000);
    expect(e.limits.idleTimeoutMs).toBe(120_000);
    expect(e.limits.maxQueueBytes).toBe(1024 * 1024);
  });

  it('refuses bad values, unknown flags and unknown file keys with ConfigError', () => {
    const bad: [string[], RegExp][] = [
      [['--port', '70000'], /--port: expected an integer/],
      [['--port', 'abc'], /--port/],
      [['--port'], /needs a value/],
      [['--log-level', 'loud'], /--log-level: expected one of/],
      [['--registration', 'maybe'], /--registration/],
      [['--bogus', '1'], /unknown option --bogus/],
      [['stray'], /unexpected argument/],
      [['--retention', '10x'], /--retention: expected a duration/],
      [['--scrypt-n', '3000'], /power of two/],
      [['--default-room', 'Bad Room'], /room name/],
    ];
    for (const [argv, message] of bad) {
      expect(() => resolveIn(argv), argv.join(' ')).toThrow(ConfigError);
      expect(() => resolveIn(argv), argv.join(' ')).toThrow(message);
    }
    expect(() => resolveIn([], { HUSH_PORT: '-1' })).toThrow(/HUSH_PORT/);
    writeFileSync(join(dir, 'hushd.json'), JSON.stringify({ prot: 1 }));
    expect(() => resolveIn([])).toThrow(/unknown key "prot"/);
    writeFileSync(join(dir, 'hushd.json'), JSON.stringify({ limits: { nope: 1 } }));
    expect(() => resolveIn([])).toThrow(/unknown limit "nope"/);
    writeFileSync(join(dir, 'hushd.json'), '{ not json');
    expect(() => resolveIn([])).toThrow(ConfigError);
    writeFileSync(join(dir, 'hushd.json'), '{"__proto__": {"port": 1}}');
    expect(() => resolveIn([])).toThrow(/unknown key "__proto__"/);
    writeFileSync(join(dir, 'hushd.json'), JSON.stringify({ limits: { heartbeatMs: 100_000, idleTimeoutMs: 50_000 } }));
    expect(() => resolveIn([])).toThrow(/heartbeatMs/);
  });

  it('names the file and the key in a config-file error (zod schema)', () => {
    const file = join(dir, 'hushd.json');
    const keys = [...OPTIONS.flatMap((o) => ('top' in o.target ? [o.target.top] : [])), 'limits'].join(', ');
    const cases: [unknown, string][] = [
      [{ limits: { messageBurst: 0 } }, `config file ${file}: limits.messageBurst: expected an integer from 1 to 1000000, got 0`],
      [
        { port: 'http' },
        `config file ${file}: port: expected an integer from 0 to 65535 (a JSON number, not a string), got the string "http"`,
      ],
      [{ logLevel: 'loud' }, `config file ${file}: logLevel: expected one of debug, info, warn, error, silent, got the string "loud"`],
      [{ limits: [] }, `config file ${file}: "limits" must be an object`],
      [['port', 1], `config file ${file}: expected a JSON object`],
      [{ limits: { nope: 1 } }, `config file ${file}: unknown limit "nope" (known keys: ${Object.keys(DEFAULT_LIMITS).join(', ')})`],
      [{ 'bad\u001bkey': 1 }, `config file ${file}: unknown key "bad\\u001bkey" (known keys: ${keys})`],
      [{ hots: '0.0.0.0' }, `config file ${file}: unknown key "hots" (did you mean "host"?)`],
      [{ limits: { idleTimeout: '1m' } }, `config file ${file}: unknown limit "idleTimeout" (did you mean "idleTimeoutMs"?)`],
      [{ 'x\u202ey': 1 }, `config file ${file}: unknown key "x\\u202ey" (known keys: ${keys})`],
    ];
    for (const [json, message] of cases) {
      writeFileSync(file, JSON.stringify(json));
      expect(() => resolveIn([]), JSON.stringify(json)).toThrow(new ConfigError(message));
    }
  });

  it('refuses a value of the wrong JSON type in the file instead of converting it, saying what is allowed and what it got', () => {
    const file = join(dir, 'hushd.json');
    const cases: [unknown, string][] = [
      // Numbers where text belongs were turned into text ("127", room "5").
      [{ host: 127 }, 'host: expected a host name or IP address, got 127'],
      [{ defaultRoom: 5 }, 'defaultRoom: expected a room name: a-z 0-9 _ - (1..32), got 5'],
      [{ openRooms: [1] }, 'openRooms: expected a room name: a-z 0-9 _ - (1..32), got a list'],
      [{ dataDir: 5 }, 'dataDir: expected a path, got 5'],
      [{ registration: true }, 'registration: expected one of open, closed, invite, got true'],
      // Text where a number or a list belongs was read as one.
      [{ port: '5555' }, 'port: expected an integer from 0 to 65535 (a JSON number, not a string), got the string "5555"'],
      [{ scryptN: '1024' }, 'scryptN: expected a power of two from 1024 to 1048576 (a JSON number, not a string), got the string "1024"'],
      [
        { limits: { maxConnections: '10' } },
        'limits.maxConnections: expected an integer from 1 to 1000000 (a JSON number, not a string), got the string "10"',
      ],
      [
        { openRooms: 'help,news' },
        'openRooms: expected a list of room names (each a room name: a-z 0-9 _ - (1..32)), got the string "help,news"',
      ],
      [{ bus: 'nats://a:4222' }, 'bus: expected a list of nats://host:4222 URLs, or "local"'],
      [{ metricsPort: false }, 'metricsPort: expected an integer from 0 to 65535, or "off" or null, got false'],
      // A number out of range says the range, in the unit's words.
      [
        { limits: { heartbeatMs: 50 } },
        'limits.heartbeatMs: expected a duration from 100ms to 1h, such as 500ms, 30s, 5m, 12h or 7d (a bare number is milliseconds), got 50',
      ],
      [{ maxFileSize: '2G' }, 'maxFileSize: expected a size from 1 to 1G, such as 65536, 512K or 10M (bytes), got the string "2G"'],
      [
        { retentionMs: 90 },
        'retentionMs: expected a duration from 1m to 36500d, such as 500ms, 30s, 5m, 12h or 7d (a bare number is milliseconds), or "forever" or null, got 90',
      ],
    ];
    for (const [json, message] of cases) {
      writeFileSync(file, JSON.stringify(json));
      expect(() => resolveIn([]), JSON.stringify(json)).toThrow(new ConfigError(`config file ${file}: ${message}`));
    }
    // The documented forms still work: durations and sizes in words, null, the flag words.
    writeFileSync(file, JSON.stringify({ retentionMs: 'forever', metricsPort: 'off', bus: 'local', maxFileSize: '5M', openRooms: [] }));
    expect(resolveIn([])).toMatchObject({ retentionMs: null, metricsPort: null, bus: null, maxFileSize: 5 * 1024 * 1024 });
    // A store URL in the wrong place is never repeated: it may hold a password.
    writeFileSync(file, JSON.stringify({ store: 'mysql://hush:s3cret@db/hush' }));
    expect(() => resolveIn([])).toThrow(
      new ConfigError(`config file ${file}: store: expected a postgres://user@host:port/database URL, or "sqlite"`),
    );
    // Flags and variables are text, and say what they got too.
    expect(() => resolveIn(['--port', '70000'])).toThrow(
      new ConfigError('--port: expected an integer from 0 to 65535, got the string "70000"'),
    );
  });

  it('says where in the file its JSON breaks, by line and column', () => {
    const file = join(dir, 'hushd.json');
    writeFileSync(file, '{\n  "port": 5555,\n}\n');
    expect(() => resolveIn([])).toThrow(new RegExp(`^config file ${file}: .*JSON.*\\(line 3 column 1\\)$`));
  });

  it('refuses a metrics port that is the serving port, naming where each came from', () => {
    expect(() => resolveIn(['--metrics-port', '5555'])).toThrow(
      new ConfigError('--metrics-port (5555) is the port hushd serves on (the default --port): give the metrics another one'),
    );
    const file = join(dir, 'hushd.json');
    writeFileSync(file, JSON.stringify({ metricsPort: 7000 }));
    expect(() => resolveIn([], { HUSH_PORT: '7000' })).toThrow(
      new ConfigError(`metricsPort in config file ${file} (7000) is the port hushd serves on (HUSH_PORT): give the metrics another one`),
    );
    expect(resolveIn(['--port', '0', '--metrics-port', '0']).metricsPort).toBe(0); // both picked free
  });

  it('reads a config file that starts with a byte-order mark (as Notepad saves UTF-8)', () => {
    writeFileSync(join(dir, 'hushd.json'), `\uFEFF${JSON.stringify({ port: 1234 })}`);
    expect(resolveIn([]).port).toBe(1234);
  });

  it('names the file when heartbeatMs is not shorter than idleTimeoutMs, with both values', () => {
    const file = join(dir, 'hushd.json');
    writeFileSync(file, JSON.stringify({ limits: { idleTimeoutMs: '20s' } }));
    expect(() => resolveIn([])).toThrow(
      new ConfigError(
        `config file ${file}: limits.heartbeatMs (30s) must be shorter than limits.idleTimeoutMs (20s): a connection would be closed as idle between two heartbeats`,
      ),
    );
    const other = join(dir, 'other.json');
    writeFileSync(other, JSON.stringify({ limits: { heartbeatMs: '2m' } }));
    expect(() => resolveIn(['--config', other])).toThrow(`config file ${other}: limits.heartbeatMs (2m) must be shorter`);
  });

  it('parses flags with node:util.parseArgs: --flag=value, the last one wins, one-line errors', () => {
    expect(resolveIn(['--port=7000', '--port', '7001']).port).toBe(7001);
    expect(() => resolveIn(['--port', '--host', 'x'])).toThrow(
      /^--port needs a value \(N\); write --port=VALUE for a value starting with "-"$/,
    );
    expect(() => resolveIn(['-x'])).toThrow(new ConfigError('unknown option -x (see hushd --help)'));
    expect(() => resolveIn(['stray'])).toThrow(new ConfigError('unexpected argument "stray" (see hushd --help)'));
  });

  it('names an HUSH_* variable for every flag', () => {
    for (const o of OPTIONS) expect(o.env).toBe(`HUSH_${o.flag.toUpperCase().replace(/-/g, '_')}`);
  });
});
