// Shared vitest settings: every package writes a JSON report that scripts/test-all.mjs sums.
import { join } from 'node:path';
import type { ViteUserConfig } from 'vitest/config';

export function testConfig(name: string, overrides: { include?: string[]; testTimeout?: number } = {}): ViteUserConfig {
  const out = process.env.HUSH_TEST_RESULTS;
  return {
    test: {
      include: overrides.include ?? ['test/**/*.test.ts'],
      testTimeout: overrides.testTimeout ?? 20_000,
      hookTimeout: 30_000,
      reporters: out ? ['default', ['json', { outputFile: join(out, `${name}.json`) }]] : ['default'],
    },
  };
}
