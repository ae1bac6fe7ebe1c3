// Runs the README Quickstart's e2e test (test/readme/quickstart-app/test) under vitest
// (`npm run test:vitest`), as the runner Nest 12's CLI scaffolds it: `globals: true`. The repository
// pins vite 7, whose transform (esbuild) writes no decorator metadata, so SWC is added here; the
// CLI's vite 8 needs no plugin (README, "Testing your streams").
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

export default defineConfig({
  // Nest injects constructor parameters by their types, read from the decorator metadata that
  // TypeScript's emitDecoratorMetadata writes. vite 7's transform (esbuild) does not write it, so
  // `this.hub` would be undefined: SWC does.
  plugins: [swc.vite()],
  root: fileURLToPath(new URL('../..', import.meta.url)),
  resolve: {
    alias: [
      { find: /^nestjs-flush$/, replacement: src('index.ts') },
      { find: /^nestjs-flush\/testing$/, replacement: src('testing/index.ts') },
      { find: /^nestjs-flush\/redis$/, replacement: src('redis.ts') },
    ],
  },
  test: {
    include: ['test/readme/quickstart-app/test/*.e2e-spec.ts'],
    globals: true,
    testTimeout: 30000,
  },
});
