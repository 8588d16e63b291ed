import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { testConfig } from '../../vitest.shared.ts';

// The examples import '@hush/client' as users do; point that at the source.
export default defineConfig({
  ...testConfig('client', { testTimeout: 30_000 }),
  resolve: { alias: { '@hush/client': fileURLToPath(new URL('./src/index.ts', import.meta.url)) } },
});
