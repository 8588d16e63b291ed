import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

export default defineConfig(testConfig('e2e'));
