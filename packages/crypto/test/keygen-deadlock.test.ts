// Node 20's generateKeyPairSync can freeze the process: its job object locks the new key's mutex
// when the garbage collector destroys it, and exporting the key holds that mutex while it
// allocates. A hung process cannot fail a test by itself, so the loop runs in a child process
// (over the built package) with a deadline; a small young generation makes collections frequent.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const KEYS = 30_000;

const script = `
  const { ClientHandshake } = await import(${JSON.stringify(`file://${dist}`)});
  for (let i = 0; i < ${KEYS}; i++) new ClientHandshake({ versions: [1] }).start();
  process.stdout.write('done');
`;

describe('ephemeral key generation', () => {
  it(`makes ${KEYS} handshake keys without freezing under constant garbage collection`, () => {
    expect(existsSync(dist), 'build the package first (pnpm build)').toBe(true);
    const r = spawnSync(process.execPath, ['--max-semi-space-size=1', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect(r.error?.message, 'the child froze (killed at the deadline)').toBeUndefined();
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('done');
  }, 70_000);
});
