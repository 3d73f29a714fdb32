import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * graphql 16 ships a CommonJS and an ESM build. Node loads the CommonJS one for every importer (the
 * package has no "exports", so `import 'graphql'` follows "main"), and so must the test runner, whose
 * resolver would otherwise pick the ESM build ("module") for our sources: one graphql, one set of classes.
 */
const graphqlCommonJs = createRequire(import.meta.url).resolve('graphql');

export default defineConfig({
  // SWC (not esbuild) so type-graphql gets the decorator metadata it needs.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: [
      { find: /^graphql$/, replacement: graphqlCommonJs },
      // Workspace packages by their public names, from source (tests never reach into another package's src/).
      { find: /^@shop\/(catalog|cart|order|inventory|payment|fulfillment)$/, replacement: here('./subgraphs/$1/src/index.ts') },
      { find: '@shop/infra/psp-simulator', replacement: here('./infra/src/psp-simulator/server.ts') },
      { find: '@shop/kit/testing', replacement: here('./subgraphs/kit/src/testing.ts') },
      { find: '@shop/kit/tracing-start', replacement: here('./subgraphs/kit/src/tracing-start.ts') },
      { find: /^@shop\/kit\/tracing$/, replacement: here('./subgraphs/kit/src/tracing.ts') },
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
