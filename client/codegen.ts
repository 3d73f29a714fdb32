import type { CodegenConfig } from '@graphql-codegen/cli';

/**
 * `npm run codegen -w @shop/client`: typed documents for every operation in src/operations/ into
 * src/gql/ (checked in), from the composed supergraph (`npm run compose` regenerates it).
 */
const config: CodegenConfig = {
  schema: ['../schema/supergraph.graphql'],
  documents: ['src/operations/*.graphql'],
  // Imports with .js extensions, so the generated files also compile for Node (the SDK build).
  emitLegacyCommonJSImports: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: true,
        avoidOptionals: { field: true, inputValue: false, object: false, defaultValue: false },
      },
    },
  },
  hooks: {},
};

export default config;
