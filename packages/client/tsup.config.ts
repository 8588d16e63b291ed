import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // env-paths is ESM-only: bundle it so the CommonJS build works on every Node 20.
  noExternal: ['env-paths'],
});
