#!/usr/bin/env node
// The one test command: builds, runs every package's vitest suite through turbo, then sums the
// per-package JSON reports into one line: `tests: N passed, N failed, N skipped`. The plain run
// also checks lint and formatting (`biome ci .`), which counts as one test in that line.
//   --stress   runs the heavier `test:stress` variants instead
//   --summary  runs nothing: sums every report written so far (CI prints it last)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const resultsRoot = join(root, '.test-results');

/** Sums the vitest JSON reports found in `dirs`, and names what failed. */
function sum(dirs) {
  const total = { passed: 0, failed: 0, skipped: 0, suitesFailed: 0, failures: [] };
  for (const dir of dirs) {
    for (const file of existsSync(dir) ? readdirSync(dir) : []) {
      if (!file.endsWith('.json')) continue;
      const report = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      total.passed += report.numPassedTests ?? 0;
      total.failed += report.numFailedTests ?? 0;
      total.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
      total.suitesFailed += report.numFailedTestSuites ?? 0;
      total.failures.push(...failuresIn(report, file));
    }
  }
  return total;
}

/** One line per failed test or unloadable file: where, which, and the first line of why. */
function failuresIn(report, file) {
  const out = [];
  for (const suite of report.testResults ?? []) {
    const where = `${file.replace(/\.json$/, '')}: ${suite.name ? suite.name.replace(root, '.') : '?'}`;
    const firstLine = (text) =>
      String(text ?? '')
        .split('\n')
        .find((l) => l.trim() !== '') ?? '';
    const failed = (suite.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failed) out.push(`${where} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
    if (failed.length === 0 && suite.status === 'failed') out.push(`${where}: ${firstLine(suite.message)}`);
  }
  return out;
}

/** The failures (so a log's tail names them), then the one summing line. */
function line({ passed, failed, skipped, failures }) {
  const named = failures.map((f) => `failed: ${f.slice(0, 400)}\n`).join('');
  return `${named}tests: ${passed} passed, ${failed} failed, ${skipped} skipped`;
}

if (process.argv.includes('--summary')) {
  const dirs = existsSync(resultsRoot) ? readdirSync(resultsRoot).map((d) => join(resultsRoot, d)) : [];
  const total = sum(dirs);
  console.log(line(total));
  process.exit(total.failed === 0 && total.suitesFailed === 0 && total.passed > 0 ? 0 : 1);
}

const task = process.argv.includes('--stress') ? 'test:stress' : 'test';
const resultsDir = join(resultsRoot, task);
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
if (task === 'test') {
  const lint = spawnSync('pnpm', ['exec', 'biome', 'ci', '.'], { cwd: root, stdio: 'inherit', env, shell: process.platform === 'win32' });
  const ok = lint.status === 0;
  if (!ok) console.log('lint: biome ci failed; `pnpm format` fixes the formatting, `pnpm lint` lists the rest');
  // Written as a vitest-style report, so the totals (and --summary) count it like any test.
  const report = { numPassedTests: ok ? 1 : 0, numFailedTests: ok ? 0 : 1, numPendingTests: 0, numTodoTests: 0, numFailedTestSuites: 0 };
  writeFileSync(join(resultsDir, 'lint.json'), JSON.stringify(report));
}

const r = spawnSync('pnpm', ['exec', 'turbo', 'run', task, '--concurrency=1', '--continue'], {
  cwd: root,
  stdio: 'inherit',
  env,
  shell: process.platform === 'win32',
});

const total = sum([resultsDir]);
// A suite that failed to load has no failed tests but is still a failure.
if (r.status !== 0 && total.failed === 0) total.failed = Math.max(1, total.suitesFailed);
console.log(line(total));
process.exit(r.status === 0 && total.failed === 0 ? 0 : 1);
