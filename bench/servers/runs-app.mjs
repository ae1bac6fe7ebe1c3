// Scenario J server: LLM-style token streams, one producer per client, in two modes.
//   --mode=runs    `hub.run(key, producer)` from a @Flush() route (GET /run/:key), re-attached with
//                  `hub.attach(key, { lastEventId })` (GET /attach/:key, Last-Event-ID)
//   --mode=plain   the same producer returned from a @Flush() route as a plain async generator
//                  (no runs: the reference load)
//   --adapter=express|fastify
// Both modes stream the same tokens (the bench payload, about 100 bytes of JSON with its send time
// `t` and number `i`) at `rate` per second, paced on an absolute schedule so that late timers do
// not slow a stream down. GET /stats answers the server's own process.cpuUsage() and RSS.
import 'reflect-metadata';
import { Controller, Get, Inject, Module, Param, Query } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Flush, FlushHub, FlushMetrics, FlushModule, LastEventId } from 'nestjs-flush';
import { announce, dieWithParent, memory, nowMs, parseArgs, payload } from '../lib/common.mjs';

dieWithParent();
const args = parseArgs();
const mode = args.mode ?? 'runs';
const adapterName = args.adapter ?? 'express';
if (mode !== 'runs' && mode !== 'plain') throw new Error(`unknown --mode=${mode}`);

/** TypeScript's method decorator emit: decorators run bottom-up, the result is defined back. */
const decorate = (cls, key, ...decorators) => {
  const proto = cls.prototype;
  const descriptor = Object.getOwnPropertyDescriptor(proto, key);
  Object.defineProperty(
    proto,
    key,
    Reflect.decorate(decorators, proto, key, descriptor) ?? descriptor,
  );
};
const param = (cls, key, index, decorator) => decorator(cls.prototype, key, index);

/** `count` tokens at `rate` per second; stops when `signal` aborts (or the consumer returns). */
async function* tokens(count, rate, signal) {
  const started = nowMs();
  const stepMs = 1000 / rate;
  for (let i = 0; i < count; i++) {
    if (signal?.aborted) return;
    yield payload(i);
    const wait = started + (i + 1) * stepMs - nowMs();
    if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait));
  }
}

const count = (n, fallback) => {
  const v = Number(n ?? fallback);
  if (!Number.isInteger(v) || v < 1 || v > 100_000) throw new Error(`bad count ${n}`);
  return v;
};

class RunsBenchController {
  constructor(hub, metrics) {
    this.hub = hub;
    this.metrics = metrics;
  }
  run(key, n, rate) {
    const total = count(n, 500);
    const perSecond = count(rate, 50);
    if (mode === 'plain') return tokens(total, perSecond);
    return this.hub.run(key, signal => tokens(total, perSecond, signal));
  }
  attach(key, lastEventId) {
    return this.hub.attach(key, { lastEventId });
  }
  stats() {
    const { user, system } = process.cpuUsage();
    return {
      cpuUserUs: user,
      cpuSystemUs: system,
      rss: process.memoryUsage().rss,
      openStreams: this.metrics.openStreams,
      published: this.metrics.published,
    };
  }
  gc() {
    return memory(true);
  }
}
Inject(FlushHub)(RunsBenchController, undefined, 0);
Inject(FlushMetrics)(RunsBenchController, undefined, 1);
decorate(RunsBenchController, 'run', Get('run/:key'), Flush());
param(RunsBenchController, 'run', 0, Param('key'));
param(RunsBenchController, 'run', 1, Query('n'));
param(RunsBenchController, 'run', 2, Query('rate'));
decorate(RunsBenchController, 'attach', Get('attach/:key'), Flush());
param(RunsBenchController, 'attach', 0, Param('key'));
param(RunsBenchController, 'attach', 1, LastEventId());
decorate(RunsBenchController, 'stats', Get('stats'));
decorate(RunsBenchController, 'gc', Get('gc'));
Controller()(RunsBenchController);

class AppModule {}
Module({
  // maxRuns off: 1000 runs at once is the load, not a limit to hit. Every other option is the
  // default (a run's replay is kept 10 minutes after its end: its memory is part of the cost).
  imports: [FlushModule.forRoot({ maxRuns: false })],
  controllers: [RunsBenchController],
})(AppModule);

let adapter;
if (adapterName === 'fastify') {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  adapter = new FastifyAdapter();
} else {
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  adapter = new ExpressAdapter();
}
const app = await NestFactory.create(AppModule, adapter, { logger: ['error', 'warn'] });
await app.listen(0, '127.0.0.1');
announce(app.getHttpServer().address().port, { server: `runs-${mode}/${adapterName}` });
