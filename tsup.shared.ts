// The build every library package shares (as vitest.shared.ts is their tests'): ESM and CommonJS
// with type declarations and source maps, for Node 20.
export const libraryBuild = {
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'] as ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
};
