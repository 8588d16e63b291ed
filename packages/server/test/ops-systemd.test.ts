// contrib/systemd/hushd.service: hardened, accepted by systemd-analyze (when installed), and its
// ExecStart/ExecReload/stop work against the real hushd the way systemd would run them.
import { spawnSync } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLI, ensureBuilt, hushdFixture } from './helpers/hushd-process.js';

const UNIT = join(dirname(fileURLToPath(import.meta.url)), '..', 'contrib', 'systemd', 'hushd.service');

type Unit = Map<string, [key: string, value: string][]>;

/** systemd's unit syntax, as far as this file uses it: [Section], Key=Value, # and ; comments. */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: [string, string][] | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([A-Za-z]+)\]$/.exec(line);
    if (header) {
      section = [];
      unit.set(header[1]!, section);
      return;
    }
    const entry = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (!entry || !section) throw new Error(`line ${i + 1} is not Key=Value inside a section: ${raw}`);
    section.push([entry[1]!, entry[2]!]);
  });
  return unit;
}

const values = (unit: Unit, section: string, key: string) => (unit.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
const value = (unit: Unit, section: string, key: string) => values(unit, section, key).at(-1);

function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      if (statSync(join(dir, program)).isFile()) return join(dir, program);
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

beforeAll(() => ensureBuilt(), 120_000);
const fx = hushdFixture('hushd-unit-');

describe('contrib/systemd/hushd.service', () => {
  const unit = parseUnit(readFileSync(UNIT, 'utf8'));

  it('runs hushd hardened, as its own user, with its state in StateDirectory', () => {
    expect(value(unit, 'Service', 'DynamicUser') === 'yes' || value(unit, 'Service', 'User') !== undefined).toBe(true);
    expect(value(unit, 'Service', 'StateDirectory')).toBe('hush');
    expect(values(unit, 'Service', 'Environment')).toContain('HUSH_DATA_DIR=%S/hush'); // %S/hush is StateDirectory=hush
    for (const [key, expected] of [
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['NoNewPrivileges', 'yes'],
      ['PrivateTmp', 'yes'],
      ['UMask', '0077'],
      ['Restart', 'on-failure'],
      ['RestartPreventExitStatus', '2'], // hushd's exit status for a configuration error
      ['ExecReload', '/bin/kill -HUP $MAINPID'],
      ['CapabilityBoundingSet', ''],
    ] as const) {
      expect([key, value(unit, 'Service', key)]).toEqual([key, expected]);
    }
    expect(value(unit, 'Service', 'ExecStart')).toMatch(/^\/\S+\/hushd$/);
    expect(value(unit, 'Install', 'WantedBy')).toBe('multi-user.target');
  });

  it('passes systemd-analyze verify and security (where systemd is installed; the checks above run everywhere)', () => {
    if (which('systemd-analyze') === undefined) {
      expect(unit.size).toBe(3); // [Unit], [Service], [Install], parsed line by line above
      return;
    }
    // verify checks that ExecStart's program exists: point it at this build.
    const copy = join(fx.dir, 'hushd.service');
    writeFileSync(copy, readFileSync(UNIT, 'utf8').replace(/^ExecStart=\S+/m, `ExecStart=${CLI}`));
    const verify = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
    expect({ status: verify.status, stderr: verify.stderr, stdout: verify.stdout }).toEqual({ status: 0, stderr: '', stdout: '' });
    // Exposure 0.0 (locked down) .. 10.0 (unsafe); fails above 2.0.
    const security = spawnSync('systemd-analyze', ['security', '--offline=yes', '--threshold=20', copy], { encoding: 'utf8' });
    expect(security.status, security.stdout + security.stderr).toBe(0);
    expect(security.stdout).toMatch(/Overall exposure level for hushd\.service: [01]\.\d/);

    // The check can fail: a broken hardening line is reported.
    const broken = join(fx.dir, 'broken.service');
    copyFileSync(copy, broken);
    writeFileSync(broken, readFileSync(copy, 'utf8').replace('ProtectSystem=strict', 'ProtectSystem=stricter'));
    expect(spawnSync('systemd-analyze', ['verify', broken], { encoding: 'utf8' }).stderr).toMatch(/ProtectSystem|protect system/i);
  });

  it.runIf(process.platform !== 'win32')('starts, reloads on ExecReload and stops on SIGTERM the way systemd runs it', async () => {
    const stateRoot = join(fx.dir, 'var-lib'); // %S
    const [program, ...args] = value(unit, 'Service', 'ExecStart')!.split(/\s+/);
    expect(program!.endsWith('/hushd')).toBe(true);
    const env: NodeJS.ProcessEnv = {};
    for (const assignment of values(unit, 'Service', 'Environment')) {
      const [k, v] = assignment.split(/=(.*)/s) as [string, string];
      env[k] = v.replaceAll('%S', stateRoot);
    }
    env.HUSH_PORT = '0'; // the only change: no fixed port in a test
    const hushd = await fx.start(args, { env, umask: value(unit, 'Service', 'UMask')! });
    const dataDir = join(stateRoot, 'hush');

    const reload = value(unit, 'Service', 'ExecReload')!.replace('$MAINPID', String(hushd.child.pid));
    const [killProgram, ...killArgs] = reload.split(' ');
    expect(spawnSync(killProgram!, killArgs).status).toBe(0);
    expect(await hushd.waitForLog('config_reloaded')).toMatchObject({ applied: [], needRestart: [] });
    expect(hushd.child.exitCode).toBeNull();

    for (const name of readdirSync(dataDir)) expect([name, statSync(join(dataDir, name)).mode & 0o077]).toEqual([name, 0]);
    expect(await hushd.stop()).toBe(0);
  });
});
