import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

// Heavier variants of the hostile-input suite (`pnpm test:stress`): bigger counts, longer runs.
export default defineConfig(testConfig('e2e-stress', { include: ['stress/**/*.test.ts'], testTimeout: 600_000 }));
