// (3)-(8) and the plain-route app: NestJS 12 servers in plain JS (decorators applied by hand).
//   --kind=nest-sse   Nest's built-in @Sse()                          (3) express, (4) fastify
//   --kind=flush      nestjs-flush @Flush()                           (5) express, (6) fastify
//   --kind=hub-sse    nestjs-flush FlushHub + Nest @Sse()             (7)
//   --kind=hub-flush  nestjs-flush FlushHub + @Flush()                (8)
//   --kind=plain      a JSON route only, for the exclusion cost (--flush=0|1 --interceptor=0|1)
//   --adapter=express|fastify   --transport=memory|redis (hub kinds; redis needs REDIS_URL)
//   --channels=N      hub kinds: every stream reads N channels (one composite-cursor stream)
//   --controls=1      hub kinds: FlushModule with maxStreamsPerKey and maxLifetimeMs set (H)
//   --prometheus=1    hub kinds: FlushPrometheusModule on, scraped every 5 s (I)
import 'reflect-metadata';
import { Controller, Get, Inject, Module, Query, Req, Sse } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NEVER, Observable, Subject, map } from 'rxjs';
import { Flush, FlushHub, FlushMetrics, FlushModule } from 'nestjs-flush';
import {
  announce,
  dieWithParent,
  memory,
  nowMs,
  parseArgs,
  payload,
  runTicker,
} from '../lib/common.mjs';

dieWithParent();
const args = parseArgs();
const kind = args.kind ?? 'nest-sse';
const adapterName = args.adapter ?? 'express';
const CHANNEL = 'bench';
/** What one hub stream reads: the bench channel alone, or it and N-1 others (G). */
const STREAM_CHANNELS =
  Number(args.channels ?? 1) > 1
    ? [CHANNEL, ...Array.from({ length: Number(args.channels) - 1 }, (_, i) => `bench-${i + 1}`)]
    : CHANNEL;

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

// ---- the in-process broadcast of the kinds without a hub: a Subject, as Nest users write it ----
const bus = new Subject();
let busSubscribers = 0;
const busStream = () =>
  new Observable(subscriber => {
    busSubscribers++;
    const s = bus.subscribe(subscriber);
    return () => {
      busSubscribers--;
      s.unsubscribe();
    };
  });
const event = i => ({ id: String(i), data: payload(i) });

/**
 * Burst for Nest's push-only @Sse(): an Observable loop that emits a batch per event-loop turn
 * and waits for the socket's 'drain' when it is backed up (Nest offers no pull source for SSE).
 */
const pacedBurst = (socket, n) =>
  new Observable(subscriber => {
    let i = 0;
    let stopped = false;
    const step = () => {
      if (stopped) return;
      for (let k = 0; k < 256 && i < n; k++) subscriber.next(event(i++));
      if (i >= n) return subscriber.complete();
      if (socket.writableNeedDrain) socket.once('drain', () => setImmediate(step));
      else setImmediate(step);
    };
    step();
    return () => (stopped = true);
  });

const controllers = [];
const imports = [];
let onReady = () => {};

if (kind === 'nest-sse' || kind === 'flush') {
  class BenchController {
    burst(req, n) {
      return pacedBurst((req.raw ?? req).socket, Number(n ?? 1000));
    }
    async *burstFlush(n) {
      const total = Number(n ?? 1000);
      for (let i = 0; i < total; i++) yield event(i);
    }
    sub() {
      return busStream();
    }
    count() {
      return { subscribers: busSubscribers };
    }
    stats() {
      return { subscribers: busSubscribers };
    }
    start(rate, duration, base) {
      void runTicker(Number(rate), Number(duration), Number(base ?? 0), i => bus.next(event(i)));
      return { ok: true, at: nowMs() };
    }
    gc() {
      return memory(true);
    }
  }
  if (kind === 'nest-sse') {
    decorate(BenchController, 'burst', Sse('burst', { maxPendingDataLength: Infinity }));
    decorate(BenchController, 'sub', Sse('sub'));
    param(BenchController, 'burst', 0, Req());
    param(BenchController, 'burst', 1, Query('n'));
  } else {
    decorate(BenchController, 'burstFlush', Get('burst'), Flush());
    decorate(BenchController, 'sub', Get('sub'), Flush());
    param(BenchController, 'burstFlush', 0, Query('n'));
    imports.push(FlushModule.forRoot({}));
  }
  decorate(BenchController, 'count', Get('count'));
  decorate(BenchController, 'stats', Get('stats'));
  decorate(BenchController, 'gc', Get('gc'));
  decorate(BenchController, 'start', Get('start'));
  param(BenchController, 'start', 0, Query('rate'));
  param(BenchController, 'start', 1, Query('duration'));
  param(BenchController, 'start', 2, Query('base'));
  Controller()(BenchController);
  controllers.push(BenchController);
} else if (kind === 'hub-sse' || kind === 'hub-flush') {
  let transport;
  if (args.transport === 'redis') {
    const { RedisFlushTransport } = await import('nestjs-flush/redis');
    transport = new RedisFlushTransport({
      url: process.env.REDIS_URL,
      keyPrefix: process.env.BENCH_REDIS_PREFIX || undefined,
    });
  }
  class HubController {
    constructor(hub, metrics) {
      this.hub = hub;
      this.metrics = metrics;
    }
    sub() {
      return this.hub.stream(STREAM_CHANNELS);
    }
    count() {
      return { subscribers: this.hub.subscriberCounts()[CHANNEL] ?? 0 };
    }
    stats() {
      return { subscriptions: this.hub.subscriberCounts(), metrics: this.metrics.snapshot() };
    }
    start(rate, duration, base) {
      void runTicker(Number(rate), Number(duration), Number(base ?? 0), i => {
        this.hub.publish(CHANNEL, payload(i), {}).catch(err => console.error(err));
      });
      return { ok: true, at: nowMs() };
    }
    gc() {
      return memory(true);
    }
  }
  Inject(FlushHub)(HubController, undefined, 0);
  Inject(FlushMetrics)(HubController, undefined, 1);
  if (kind === 'hub-sse') decorate(HubController, 'sub', Sse('sub'));
  else decorate(HubController, 'sub', Get('sub'), Flush());
  decorate(HubController, 'count', Get('count'));
  decorate(HubController, 'stats', Get('stats'));
  decorate(HubController, 'gc', Get('gc'));
  decorate(HubController, 'start', Get('start'));
  param(HubController, 'start', 0, Query('rate'));
  param(HubController, 'start', 1, Query('duration'));
  param(HubController, 'start', 2, Query('base'));
  Controller()(HubController);
  controllers.push(HubController);
  // --controls=1 (H): a cap and a lifetime configured, far from being reached, to measure
  // what the stream controls cost every stream (a slot per key, a lifetime timer).
  const controls =
    args.controls === '1' ? { maxStreamsPerKey: 1_000_000, maxLifetimeMs: 3_600_000 } : {};
  imports.push(FlushModule.forRoot({ ...(transport ? { transport } : {}), ...controls }));
  // --prometheus=1 (I): FlushPrometheusModule on prom-client's global registry, scraped every
  // 5 s as a Prometheus server would (more often than the usual 15 s).
  if (args.prometheus === '1') {
    const { FlushPrometheusModule } = await import('nestjs-flush/prometheus');
    const { register } = await import('prom-client');
    imports.push(FlushPrometheusModule.register());
    setInterval(() => void register.metrics(), 5000).unref();
  }
  // Churn: a steady trickle of events, so every client reads one soon after it connects.
  if (args.trickleMs) {
    onReady = app => {
      const hub = app.get(FlushHub);
      let i = 0;
      setInterval(
        () => void hub.publish(CHANNEL, payload(i++)).catch(() => undefined),
        Number(args.trickleMs),
      );
    };
  }
} else if (kind === 'plain') {
  class PlainController {
    json() {
      return { hello: 'world', n: 42, list: [1, 2, 3] };
    }
    events() {
      return NEVER;
    }
    gc() {
      return memory(true);
    }
  }
  decorate(PlainController, 'json', Get('json'));
  decorate(PlainController, 'events', Sse('events'));
  decorate(PlainController, 'gc', Get('gc'));
  Controller()(PlainController);
  controllers.push(PlainController);
  if (args.flush === '1') imports.push(FlushModule.forRoot({}));
} else {
  throw new Error(`unknown --kind=${kind}`);
}

class AppModule {}
Module({ imports, controllers })(AppModule);

let adapter;
if (adapterName === 'fastify') {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  adapter = new FastifyAdapter();
} else {
  const { ExpressAdapter } = await import('@nestjs/platform-express');
  adapter = new ExpressAdapter();
}
const app = await NestFactory.create(AppModule, adapter, { logger: ['error', 'warn'] });
if (kind === 'plain' && args.interceptor === '1') {
  // The unified-response wrapper of PRODUCT.md: every response becomes { code, message, data }.
  class EnvelopeInterceptor {
    intercept(context, next) {
      return next.handle().pipe(map(data => ({ code: 0, message: '', data })));
    }
  }
  app.useGlobalInterceptors(new EnvelopeInterceptor());
}
await app.listen(0, '127.0.0.1');
onReady(app);
announce(app.getHttpServer().address().port, { server: `${kind}/${adapterName}` });
