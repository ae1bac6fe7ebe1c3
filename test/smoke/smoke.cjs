// The built package loads with `require` too (require(esm), Node >= 20.19 / 22.12).
const assert = require('node:assert/strict');
require('reflect-metadata');

const flush = require('nestjs-flush');
for (const name of ['FlushModule', 'FlushHub', 'Flush', 'LastEventId', 'StreamSafe']) {
  assert.ok(flush[name], `nestjs-flush exports ${name}`);
}
assert.equal(typeof require('nestjs-flush/testing').readSse, 'function');
console.log('smoke (require): ok');
