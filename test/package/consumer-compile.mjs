#!/usr/bin/env node
// Compiles a consumer of the packed package under each module resolution a NestJS app uses:
// every entry point of package.json `exports` (new ones are covered without touching this file)
// must resolve, with its types, under each. Run `npm run build` first (`npm test` does).
//
//   commonjs + node10     Nest 11 apps created before `nodenext` (no `exports` support)
//   node16 + node16       ESM app
//   nodenext + nodenext   ESM app (`nest new`, CLI 12) and CommonJS app (`nest new --type cjs`)
//   esnext + bundler      vite / vitest / webpack setups
// and nestjs-flush/client alone in a browser project without @nestjs, rxjs or @types/node.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { entryPoints, makeProject, pack, tsc } from './packed.mjs';

const setups = [
  { name: 'commonjs + node10', type: 'commonjs', module: 'commonjs', moduleResolution: 'node10' },
  { name: 'node16 + node16 (ESM)', type: 'module', module: 'node16', moduleResolution: 'node16' },
  {
    name: 'nodenext + nodenext (ESM)',
    type: 'module',
    module: 'nodenext',
    moduleResolution: 'nodenext',
  },
  {
    name: 'nodenext + nodenext (CommonJS)',
    type: 'commonjs',
    module: 'nodenext',
    moduleResolution: 'nodenext',
  },
  { name: 'esnext + bundler', type: 'module', module: 'esnext', moduleResolution: 'bundler' },
];

const entries = entryPoints();
/** One typed use of each optional integration, so that a peer typed as any fails the compile. */
const INTEGRATION_USES = {
  'nestjs-flush/prometheus': e => [
    `export const prometheus: DynamicModule = ${e}.FlushPrometheusModule.register({ channelLabel: (c: string) => c });`,
  ],
  'nestjs-flush/terminus': e => [
    `type Health = Awaited<ReturnType<${e}.FlushHealthIndicator['isHealthy']>>;`,
    'export const healthTyped: IsAny<Health> = false;',
  ],
  'nestjs-flush/swagger': e => [
    `export const apiFlush: MethodDecorator = ${e}.ApiFlush({ format: 'ndjson', events: { row: { type: 'object' } } });`,
  ],
};
// Each entry point imported as a namespace; `IsAny` fails the compile when one resolved to a file
// without types (any). The root's FlushModule must also type against the app's @nestjs/common.
const consumer = [
  "import type { DynamicModule } from '@nestjs/common';",
  ...entries.map((entry, i) => `import * as entry${i} from '${entry}';`),
  '',
  'type IsAny<T> = 0 extends 1 & T ? true : false;',
  ...entries.map(
    (entry, i) => `export const typed${i}: IsAny<typeof entry${i}> = false; // ${entry}`,
  ),
  'export const module: DynamicModule = entry0.FlushModule.forRoot();',
  // The integrations type against their optional peers, which resolve in the consumer project.
  ...entries.flatMap((entry, i) => INTEGRATION_USES[entry]?.(`entry${i}`) ?? []),
  '',
].join('\n');

// A browser app's bundle: only nestjs-flush/client, in a project without NestJS, rxjs or Node's
// types, its declaration files checked too (no skipLibCheck): the client's types stand alone.
const browserConsumer = [
  "import { FlushClient, type FlushEventsOf } from 'nestjs-flush/client';",
  'type Channel = { readonly "~events"?: { headline: { title: string } } };',
  "const client = new FlushClient<FlushEventsOf<Channel>>('/news', { retry: { maxAttempts: 3 } });",
  "export const off: () => void = client.on('headline', h => h.title.toUpperCase());",
  '',
].join('\n');

const started = Date.now();
const { tarball } = pack();
const work = mkdtempSync(join(tmpdir(), 'nestjs-flush-consumers-'));
const failures = [];
try {
  for (const setup of setups) {
    const dir = join(work, setup.name.replace(/\W+/g, '-'));
    makeProject(dir, tarball, {
      'package.json': { name: 'consumer', private: true, type: setup.type },
      'tsconfig.json': {
        compilerOptions: {
          module: setup.module,
          moduleResolution: setup.moduleResolution,
          target: 'ES2022',
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          skipLibCheck: true,
          noEmit: true,
          types: ['node'],
        },
        files: ['src/consumer.ts'],
      },
      'src/consumer.ts': consumer,
    });
    try {
      tsc(dir, ['-p', 'tsconfig.json']);
      console.log(`  ✓ ${setup.name}`);
    } catch (error) {
      const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
      console.log(`  ✕ ${setup.name}\n${output.replace(/^/gm, '      ')}`);
      failures.push(setup.name);
    }
  }
  const browser = join(work, 'browser-bundle');
  makeProject(
    browser,
    tarball,
    {
      'package.json': { name: 'browser-consumer', private: true, type: 'module' },
      'tsconfig.json': {
        compilerOptions: {
          module: 'esnext',
          moduleResolution: 'bundler',
          target: 'ES2022',
          lib: ['ES2022', 'DOM'],
          strict: true,
          noEmit: true,
          types: [],
        },
        files: ['src/main.ts'],
      },
      'src/main.ts': browserConsumer,
    },
    ['@nestjs', 'rxjs', '@types', 'reflect-metadata'],
  );
  try {
    tsc(browser, ['-p', 'tsconfig.json']);
    console.log(
      '  ✓ browser bundle: nestjs-flush/client alone, without @nestjs, rxjs, @types/node',
    );
  } catch (error) {
    const output = `${error.stdout ?? ''}${error.stderr ?? ''}`.trim();
    console.log(`  ✕ browser bundle (nestjs-flush/client)\n${output.replace(/^/gm, '      ')}`);
    failures.push('browser bundle (nestjs-flush/client)');
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  rmSync(join(tarball, '..'), { recursive: true, force: true });
}

const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length > 0) {
  console.error(`consumer-compile: FAILED under ${failures.join(', ')} (${entries.join(', ')})`);
  process.exit(1);
}
console.log(
  `consumer-compile: ok, ${entries.length} entry points (${entries.join(', ')}) under ${setups.length} module settings, the client alone in a browser project in ${seconds} s`,
);
