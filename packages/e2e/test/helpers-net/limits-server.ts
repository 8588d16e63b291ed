// The server the resource-limit attacks run against, for the normal test and its stress variant:
// a hushd child process under LIMITS_UNDER_TEST with an honest client pinging it throughout.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { PingProbe } from './honest.js';
import { LIMITS_UNDER_TEST } from './limits.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

export interface LimitsServer {
  readonly hushd: ServerProcess;
  readonly probe: PingProbe;
}

/** Started before the calling file's tests, stopped after them. */
export function limitsServer(dataDirPrefix: string): LimitsServer {
  const fixture = {} as { hushd: ServerProcess; probe: PingProbe; dataDir: string };
  beforeAll(async () => {
    fixture.dataDir = mkdtempSync(join(tmpdir(), dataDirPrefix));
    fixture.hushd = await startServerProcess({
      dataDir: fixture.dataDir,
      logLevel: 'info',
      limits: LIMITS_UNDER_TEST,
      config: { openRooms: ['lobby', 'flow'] },
    });
    fixture.probe = await PingProbe.start(fixture.hushd.port, 'honest-pinger', { intervalMs: 20, boundMs: 3000 });
  }, 30_000);
  afterAll(async () => {
    await fixture.probe?.stop();
    await fixture.hushd?.stop();
    if (fixture.dataDir) rmSync(fixture.dataDir, { recursive: true, force: true });
  });
  return fixture;
}
