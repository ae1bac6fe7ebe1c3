// Scenario D client: N cycles of connect → read one event → disconnect, C at a time, against a
// hub route the server feeds with a steady trickle. Then: subscriptions left open, heap after GC.
import http from 'node:http';
import { nowMs, parseArgs } from '../lib/common.mjs';
import { createScanner } from './sse-scan.mjs';
import { getJson, sleep, waitForCount } from './streams.mjs';

const args = parseArgs();
const url = args.url;
const n = Number(args.cycles);
const concurrency = Number(args.concurrency);
const warmup = Number(args.warmup ?? 1000);
const historySize = Number(args.historySize ?? 1000);

let failures = 0;
const cycle = () =>
  new Promise(resolve => {
    let done = false;
    const finish = ok => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!ok) failures++;
      req.destroy();
      resolve();
    };
    const timer = setTimeout(() => finish(false), 10000);
    const req = http.get(`${url}/sub`, { agent: false }, res => {
      const scan = createScanner(() => finish(true));
      res.on('data', scan);
      res.on('error', () => undefined);
      res.on('end', () => finish(false));
    });
    req.on('error', () => finish(false));
  });

const run = async count => {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await cycle();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
};

await run(warmup);
await waitForCount(url, c => c === 0, 30000);
// The channel history is full before the first reading, so it does not count as growth.
for (
  let stats = await getJson(`${url}/stats`);
  stats.metrics.published < historySize + 100;
  stats = await getJson(`${url}/stats`)
) {
  await sleep(100);
}
const before = await getJson(`${url}/gc`);
const failuresBefore = failures;
const started = nowMs();
await run(n);
const ms = nowMs() - started;
let open;
try {
  open = await waitForCount(url, c => c === 0, 5000);
} catch {
  open = (await getJson(`${url}/count`)).subscribers;
}
await sleep(300);
const after = await getJson(`${url}/gc`);
const stats = await getJson(`${url}/stats`);
process.stdout.write(
  `${JSON.stringify({
    cycles: n,
    concurrency,
    failures: failures - failuresBefore,
    ms,
    cyclesPerSec: (n / ms) * 1000,
    openSubscriptions: open,
    subscriptions: stats.subscriptions,
    openStreams: stats.metrics.openStreams,
    heapBefore: before.heapUsed,
    heapAfter: after.heapUsed,
    heapGrowth: (after.heapUsed - before.heapUsed) / before.heapUsed,
    rssBefore: before.rss,
    rssAfter: after.rss,
  })}\n`,
);
