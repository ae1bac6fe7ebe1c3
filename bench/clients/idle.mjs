// Scenario C client: N open, idle streams; the server's RSS per connection, measured after a full
// GC on both sides of the opening (the server runs with --expose-gc; GET /gc collects).
import { parseArgs } from '../lib/common.mjs';
import { statusBytes } from '../lib/proc.mjs';
import { getJson, openStreams, sleep, waitForCount } from './streams.mjs';

const args = parseArgs();
const url = args.url;
const n = Number(args.clients);
const pid = Number(args.pid);
const warmup = Number(args.warmup ?? 100);

const settle = async () => {
  const gc = await getJson(`${url}/gc`);
  await sleep(300);
  return { rss: statusBytes(pid, 'VmRSS'), heapUsed: gc.heapUsed, external: gc.external };
};

// Warm-up: the route's first connections compile and allocate what every later one shares.
if (warmup > 0) {
  const w = await openStreams(`${url}/sub`, warmup);
  await waitForCount(url, c => c >= warmup, 30000);
  w.close();
  await waitForCount(url, c => c === 0, 30000);
}
const before = await settle();
const started = Date.now();
const streams = await openStreams(`${url}/sub`, n, { concurrency: 200 });
await waitForCount(url, c => c >= n, 120000);
const openMs = Date.now() - started;
await sleep(1000);
const after = await settle();
streams.close();
process.stdout.write(
  `${JSON.stringify({
    clients: n,
    failed: streams.failed,
    openMs,
    rssBefore: before.rss,
    rssAfter: after.rss,
    rssPerConnection: (after.rss - before.rss) / n,
    heapPerConnection: (after.heapUsed - before.heapUsed) / n,
  })}\n`,
);
