import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  // SWC (not esbuild) so type-graphql gets the decorator metadata it needs.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: [
      { find: '@shop/kit/testing', replacement: here('./subgraphs/kit/src/testing.ts') },
      { find: '@shop/kit', replacement: here('./subgraphs/kit/src/index.ts') },
      { find: '@shop/schema', replacement: here('./schema/src/index.ts') },
    ],
  },
  test: {
    include: [
      'subgraphs/*/src/**/*.test.ts',
      'gateway/src/**/*.test.ts',
      'infra/**/*.test.ts',
      'schema/**/*.test.ts',
      'client/src/**/*.test.ts',
      'client/e2e/**/*.e2e.test.ts',
      'tests/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
    globalSetup: ['./tests/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 180_000,
  },
});
