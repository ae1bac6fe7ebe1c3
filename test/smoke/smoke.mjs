// The built package loads with `import` (ESM) and exposes the public API.
import assert from 'node:assert/strict';
import 'reflect-metadata';

const flush = await import('nestjs-flush');
for (const name of [
  'FlushModule',
  'FlushHub',
  'Flush',
  'LastEventId',
  'StreamSafe',
  'StreamingRoute',
  'FlushSignal',
]) {
  assert.ok(flush[name], `nestjs-flush exports ${name}`);
}
// The root exports what the README documents; the machinery stays inside.
for (const name of [
  'StreamWriter',
  'FlushInterceptor',
  'FlushConnections',
  'encodeData',
  'getStreamKind',
]) {
  assert.equal(flush[name], undefined, `nestjs-flush does not export the internal ${name}`);
}
const testing = await import('nestjs-flush/testing');
assert.equal(typeof testing.readSse, 'function');
const redis = await import('nestjs-flush/redis');
assert.equal(typeof redis.RedisFlushTransport, 'function');
const prometheus = await import('nestjs-flush/prometheus');
assert.equal(typeof prometheus.FlushPrometheusModule.register, 'function');
const terminus = await import('nestjs-flush/terminus');
assert.equal(typeof terminus.FlushHealthIndicator, 'function');
const swagger = await import('nestjs-flush/swagger');
assert.equal(typeof swagger.ApiFlush, 'function');
console.log('smoke (import): ok');
