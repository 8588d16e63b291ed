// The pure part of a reload: which keys changed, which apply at once, and that they are applied in
// place (the server keeps references to the live config and its limits object).
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type HushdConfig } from '../src/config.js';
import { applyConfig, diffConfig } from '../src/config-reload.js';

const config = (over: Partial<HushdConfig> = {}): HushdConfig => ({
  ...DEFAULT_CONFIG,
  dataDir: '/srv/hush',
  ...over,
  limits: { ...DEFAULT_CONFIG.limits, ...over.limits },
});

describe('config reload', () => {
  it('reports nothing for an unchanged configuration', () => {
    expect(diffConfig(config(), config())).toEqual({ applied: [], needRestart: [] });
  });

  it('applies reloadable keys and limits in place, and leaves the rest for a restart', () => {
    const live = config();
    const limits = live.limits;
    const next = config({
      logLevel: 'debug',
      registration: 'invite',
      minPasswordLength: 12,
      maxFileSize: 1024,
      retentionMs: 86_400_000,
      fileRetentionMs: 3_600_000,
      shutdownTimeoutMs: 1000,
      port: 6000,
      host: '0.0.0.0',
      dataDir: '/elsewhere',
      defaultRoom: 'hall',
      metricsPort: 9464,
      scryptN: 1024,
      limits: { ...DEFAULT_CONFIG.limits, maxConnections: 10, idleTimeoutMs: 5000 },
    });
    const changes = applyConfig(live, next);
    expect(changes.applied.sort()).toEqual(
      [
        'fileRetentionMs',
        'limits.idleTimeoutMs',
        'limits.maxConnections',
        'logLevel',
        'maxFileSize',
        'minPasswordLength',
        'registration',
        'retentionMs',
        'shutdownTimeoutMs',
      ].sort(),
    );
    expect(changes.needRestart.sort()).toEqual(['dataDir', 'defaultRoom', 'host', 'metricsPort', 'port', 'scryptN']);
    expect(live.limits).toBe(limits); // the same object, updated
    expect(live).toMatchObject({
      logLevel: 'debug',
      registration: 'invite',
      minPasswordLength: 12,
      retentionMs: 86_400_000,
      limits: { maxConnections: 10, idleTimeoutMs: 5000 },
    });
    expect(live).toMatchObject({
      port: DEFAULT_CONFIG.port,
      host: DEFAULT_CONFIG.host,
      dataDir: '/srv/hush',
      defaultRoom: 'lobby',
      metricsPort: null,
      scryptN: DEFAULT_CONFIG.scryptN,
    });
    // Applied once, the same file changes nothing more, but still lists what waits for a restart.
    const again = applyConfig(live, next);
    expect({ applied: again.applied, needRestart: again.needRestart.sort() }).toEqual({ applied: [], needRestart: changes.needRestart });
  });
});
