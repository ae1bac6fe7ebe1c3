#!/usr/bin/env node
// Measures the README table "What it solves": what a NestJS app does to streams WITHOUT
// FlushModule. A real app on a real port, read with raw node:http, once per case:
//   envelope   a global interceptor map(data => ({ code: 0, message: '', data })) on an @Sse() route
//   timeout    a global timeout(1000) interceptor on a quiet @Sse() route
//   generator  a @Get() handler that is an async generator
//
//   node test/readme/without-it.mjs                              the root install (latest 12)
//   node test/readme/without-it.mjs test/nest-versions/11        a matrix install (npm ci --prefix it first)
import 'reflect-metadata';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const install = resolve(process.argv[2] ?? '.', 'node_modules');
const load = name => import(pathToFileURL(join(install, name, 'index.js')).href);
const { Controller, Get, Module, Sse } = await load('@nestjs/common');
const { NestFactory } = await load('@nestjs/core');
const coreVersion = createRequire(join(install, 'x.js'))('@nestjs/core/package.json').version;
const { NEVER, interval, map, take, timeout } = createRequire(join(install, 'x.js'))('rxjs');

/** Applies method decorators to `Class.prototype[name]`, as TypeScript does. */
const decorate = (Class, name, ...decorators) => {
  const descriptor = Object.getOwnPropertyDescriptor(Class.prototype, name);
  for (const decorator of decorators) decorator(Class.prototype, name, descriptor);
};

class StreamsController {
  events() {
    return interval(50).pipe(
      take(2),
      map(i => ({ data: { i } })),
    );
  }
  quiet() {
    return NEVER;
  }
  async *rows() {
    yield { i: 0 };
    yield { i: 1 };
  }
}
decorate(StreamsController, 'events', Sse('events'));
decorate(StreamsController, 'quiet', Sse('quiet'));
decorate(StreamsController, 'rows', Get('rows'));
Controller()(StreamsController);
class AppModule {}
Module({ controllers: [StreamsController] })(AppModule);

/** The raw body of GET `path` until the response ends or `ms` pass, with the time it ended. */
const read = (port, path, ms) =>
  new Promise((done, fail) => {
    const started = Date.now();
    const req = request({ host: '127.0.0.1', port, path }, res => {
      let body = '';
      const finish = ended =>
        done({
          status: res.statusCode,
          type: res.headers['content-type'],
          body,
          ended,
          afterMs: Date.now() - started,
        });
      const timer = setTimeout(() => (req.destroy(), finish(false)), ms);
      res.setEncoding('utf8');
      res.on('data', chunk => (body += chunk));
      res.on('end', () => (clearTimeout(timer), finish(true)));
      res.on('error', () => {});
    });
    req.on('error', fail).end();
  });

const measure = async (name, interceptor, path, ms) => {
  const app = await NestFactory.create(AppModule, { logger: false });
  if (interceptor) app.useGlobalInterceptors(interceptor);
  await app.listen(0, '127.0.0.1');
  const { status, type, body, ended, afterMs } = await read(
    app.getHttpServer().address().port,
    path,
    ms,
  );
  await app.close();
  const how = ended
    ? `ended after ${Math.round(afterMs / 100) / 10} s`
    : `still open after ${ms / 1000} s`;
  console.log(`${name}: ${status} ${type}, ${how}, body ${JSON.stringify(body)}`);
};

console.log(`@nestjs/core ${coreVersion}, express, no FlushModule`);
await measure(
  'envelope',
  { intercept: (_, next) => next.handle().pipe(map(data => ({ code: 0, message: '', data }))) },
  '/events',
  1500,
);
await measure(
  'timeout',
  { intercept: (_, next) => next.handle().pipe(timeout(1000)) },
  '/quiet',
  2500,
);
await measure('generator', undefined, '/rows', 1500);
