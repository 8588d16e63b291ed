import { defineConfig } from 'tsup';
import { libraryBuild } from '../../tsup.shared.ts';

export default defineConfig({
  ...libraryBuild,
  // env-paths is ESM-only: bundle it so the CommonJS build works on every Node 20.
  noExternal: ['env-paths'],
});
