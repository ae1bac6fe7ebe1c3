// Scenario L (rolling deploy) instance: a small Nest app (express) from dist/, FlushHub on Redis,
// shutdown hooks on (SIGTERM ends every stream with a jittered `retry:` hint, then the process
// exits). GET /sub: hub.stream('deploy', { lastEventId }) from @Sse(); GET /count; GET /start?
// rate=&duration= publishes the bench payload (sequence `i`, send time `t`) on the channel.
//   --port=N (0: any)   --cluster=host:port,...  (Redis Cluster; otherwise REDIS_URL)
//   --historySize=N     the channel's history (default: the library's, 1000 events)
// Exits when its stdin closes (the orchestrator is gone).
import 'reflect-metadata';
import { Controller, Get, Inject, Module, Query, Sse } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FlushHub, FlushModule, LastEventId } from 'nestjs-flush';
import { RedisFlushTransport } from 'nestjs-flush/redis';
import { announce, nowMs, parseArgs, payload } from '../lib/common.mjs';

process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();

const args = parseArgs();
const CHANNEL = 'deploy';
const keyPrefix = process.env.BENCH_REDIS_PREFIX || undefined;
const history = args.historySize ? { historySize: Number(args.historySize) } : {};
const transport = args.cluster
  ? new RedisFlushTransport({
      cluster: String(args.cluster)
        .split(',')
        .map(hostPort => {
          const [host, port] = hostPort.split(':');
          return { host, port: Number(port) };
        }),
      keyPrefix,
      ...history,
    })
  : new RedisFlushTransport({ url: process.env.REDIS_URL, keyPrefix, ...history });

class DeployController {
  constructor(hub) {
    this.hub = hub;
  }
  sub(lastEventId) {
    return this.hub.stream(CHANNEL, { lastEventId });
  }
  count() {
    return { subscribers: this.hub.subscriberCounts()[CHANNEL] ?? 0 };
  }
  start(rate) {
    // Publishes until GET /stop: every event due by now at each tick (exact under a late timer).
    const started = nowMs();
    let sent = 0;
    this.failed = 0;
    this.ticker = setInterval(
      () => {
        const due = Math.floor(((nowMs() - started) * Number(rate)) / 1000) + 1;
        while (sent < due) this.hub.publish(CHANNEL, payload(sent++)).catch(() => this.failed++);
      },
      Math.max(1, Math.floor(1000 / Number(rate))),
    );
    this.sent = () => sent;
    return { ok: true, at: nowMs() };
  }
  stop() {
    clearInterval(this.ticker);
    return { published: this.sent?.() ?? 0, failed: this.failed ?? 0 };
  }
}
Inject(FlushHub)(DeployController, undefined, 0);
const decorate = (key, ...decorators) => {
  const proto = DeployController.prototype;
  const descriptor = Object.getOwnPropertyDescriptor(proto, key);
  Object.defineProperty(
    proto,
    key,
    Reflect.decorate(decorators, proto, key, descriptor) ?? descriptor,
  );
};
decorate('sub', Sse('sub'));
LastEventId()(DeployController.prototype, 'sub', 0);
decorate('count', Get('count'));
decorate('start', Get('start'));
Query('rate')(DeployController.prototype, 'start', 0);
decorate('stop', Get('stop'));
Controller()(DeployController);

class AppModule {}
Module({ imports: [FlushModule.forRoot({ transport })], controllers: [DeployController] })(
  AppModule,
);

const app = await NestFactory.create(AppModule, new ExpressAdapter(), { logger: ['error'] });
app.enableShutdownHooks();
await app.listen(Number(args.port ?? 0), '127.0.0.1');
announce(app.getHttpServer().address().port, { server: 'deploy' });
