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
const testing = await import('nestjs-flush/testing');
assert.equal(typeof testing.readSse, 'function');
const redis = await import('nestjs-flush/redis');
assert.equal(typeof redis.RedisFlushTransport, 'function');
console.log('smoke (import): ok');
