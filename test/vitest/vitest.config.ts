// Runs the README's test-kit example under vitest (`npm run test:vitest`), the runner Nest 12's
// CLI scaffolds. The part a user copies is shown in README.md ("Testing your streams").
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`../../src/${path}`, import.meta.url));

export default defineConfig({
  // Nest injects constructor parameters by their types, read from the decorator metadata that
  // TypeScript's emitDecoratorMetadata writes. vitest's default transform (esbuild) does not
  // write it, so `this.hub` would be undefined: SWC does.
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
    include: ['test/readme/**/*.vitest-spec.ts'],
    testTimeout: 30000,
  },
});
