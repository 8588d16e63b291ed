#!/usr/bin/env node
// The one test command: builds, runs every package's vitest suite through turbo, then sums the
// per-package JSON reports into one line: `tests: N passed, N failed, N skipped`.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stress = process.argv.includes('--stress');
const task = stress ? 'test:stress' : 'test';
const resultsDir = join(root, '.test-results', task);
rmSync(resultsDir, { recursive: true, force: true });
mkdirSync(resultsDir, { recursive: true });

const env = {
  ...process.env,
  TURBO_TELEMETRY_DISABLED: '1',
  DO_NOT_TRACK: '1',
  NO_COLOR: '1',
  FORCE_COLOR: '0',
  HUSH_TEST_RESULTS: resultsDir,
};
const r = spawnSync('pnpm', ['exec', 'turbo', 'run', task, '--concurrency=1', '--continue'], {
  cwd: root,
  stdio: 'inherit',
  env,
  shell: process.platform === 'win32',
});

let passed = 0, failed = 0, skipped = 0, suitesFailed = 0;
for (const file of existsSync(resultsDir) ? readdirSync(resultsDir) : []) {
  if (!file.endsWith('.json')) continue;
  const report = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
  passed += report.numPassedTests ?? 0;
  failed += report.numFailedTests ?? 0;
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  suitesFailed += report.numFailedTestSuites ?? 0;
}
// A suite that failed to load has no failed tests but is still a failure.
if (r.status !== 0 && failed === 0) failed = Math.max(1, suitesFailed);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(r.status === 0 && failed === 0 ? 0 : 1);
