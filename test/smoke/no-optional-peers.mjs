// `import 'nestjs-flush'` loads none of the optional peers (prom-client, @nestjs/terminus,
// @nestjs/swagger, ioredis): each lives behind its own entry point (STYLE.md). A resolve hook makes
// loading one fail; the swagger entry point, which imports its peer, proves the hook works.
import assert from 'node:assert/strict';
import { register } from 'node:module';
import 'reflect-metadata';

register('./optional-peers.hook.mjs', import.meta.url);

const flush = await import('nestjs-flush');
assert.equal(typeof flush.FlushModule, 'function');
// These two load their peer at bootstrap, not at import.
const { FlushPrometheusModule } = await import('nestjs-flush/prometheus');
const { FlushHealthIndicator } = await import('nestjs-flush/terminus');
await import('nestjs-flush/redis');

// Without their peer, they fail the bootstrap with what to install (never a request).
const { Module } = await import('@nestjs/common');
const { NestFactory } = await import('@nestjs/core');
const bootstrap = metadata => {
  class App {}
  Module({ imports: [flush.FlushModule.forRoot()], ...metadata })(App);
  return NestFactory.createApplicationContext(App, { logger: false, abortOnError: false });
};
await assert.rejects(
  bootstrap({ imports: [flush.FlushModule.forRoot(), FlushPrometheusModule.register()] }),
  /npm install prom-client/,
);
await assert.rejects(
  bootstrap({ providers: [FlushHealthIndicator] }),
  /npm install @nestjs\/terminus/,
);
await assert.rejects(import('nestjs-flush/swagger'), /optional peer "@nestjs\/swagger"/);
console.log('smoke (optional peers): ok, the root entry point loads none');
