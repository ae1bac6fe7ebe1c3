// Type-aware ESLint: no-floating-promises matters for stream writes (pino), consistent type imports
// keep decorator-metadata imports as values (terminus).
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-sample/**',
      'node_modules/**',
      'test/nest-versions/*/node_modules/**',
      'coverage/**',
      '.cache/**',
      '**/*.js',
      '**/*.mjs',
      '**/*.cjs',
      '.artifacts/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/no-base-to-string': 'off',
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/only-throw-error': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The pure core: wire formats and the stream writer import nothing from NestJS, directly or
    // through the Nest shell (STYLE.md R6), so they can be tested byte for byte without Nest.
    files: ['src/sse/**/*.ts', 'src/ndjson/**/*.ts', 'src/writer/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*'],
              message:
                'The pure core (src/sse, src/ndjson, src/writer) imports nothing from NestJS.',
            },
            {
              group: [
                '../*',
                '!../sse/*',
                '!../ndjson/*',
                '!../writer/*',
                '!../flush.errors.js',
                '!../flush.internal-constants.js',
              ],
              message:
                'The pure core may import only src/sse, src/ndjson, src/writer, flush.errors and flush.internal-constants.',
            },
          ],
        },
      ],
    },
  },
  {
    // Capabilities depend inward (STYLE.md 3.2): the hub and the transports know nothing of
    // controls/ (caps, lifetime, revocation, tickets) or runs/; they offer seams (the control
    // plane, the ticket redeemer, the runner) that controls/ and runs/ implement or use.
    files: ['src/broadcast/**/*.ts', 'src/redis/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/controls/*'],
              message:
                'src/broadcast and src/redis do not import src/controls: define a seam in broadcast/ instead.',
            },
            {
              group: ['**/runs/*'],
              message:
                'src/broadcast and src/redis do not import src/runs: define a seam in broadcast/ instead.',
            },
          ],
        },
      ],
    },
  },
  {
    // The wire formats with an ending of their own: pure frame builders on top of the core.
    files: ['src/formats/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@nestjs/*'],
              message: 'src/formats builds frames without NestJS; the interceptor wires it in.',
            },
            {
              group: ['../*', '!../sse', '!../ndjson', '!../writer', '!../flush.errors.js'],
              message:
                'src/formats depends inward only: src/sse, src/ndjson, src/writer, flush.errors.',
            },
          ],
        },
      ],
    },
  },
  {
    // The browser client (nestjs-flush/client) runs in browsers: nothing from NestJS, Node's
    // built-ins or the rest of the package, so that a bundler ships only src/client.
    files: ['src/client/**/*.ts'],
    ignores: ['src/**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./)',
              message:
                'src/client imports only src/client: it runs in browsers, without dependencies.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['test/**/*.ts', 'sample/**/*.ts', 'bench/**/*.ts', 'src/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
);
