import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

export default defineConfig(testConfig('pack-test', { testTimeout: 60_000 }));
