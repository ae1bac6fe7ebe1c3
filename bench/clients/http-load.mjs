// Scenario E client: autocannon against the plain JSON route of two servers that differ in one
// thing (FlushModule imported or not). Slices alternate A B B A A B ... so that drift on a shared
// machine hits both alike; a warm-up slice per server comes first and is not counted.
// Also reports each server's CPU time per request (from /proc), steadier than requests/s.
import autocannon from 'autocannon';
import { parseArgs } from '../lib/common.mjs';
import { cpuSeconds } from '../lib/proc.mjs';

const args = parseArgs();
const urls = String(args.urls).split(',');
const pids = String(args.pids).split(',').map(Number);
const slices = Number(args.slices ?? 10);
const slice = Number(args.slice ?? 1);
const connections = Number(args.connections ?? 50);

const run = (url, duration) =>
  autocannon({ url: `${url}/json`, connections, pipelining: 1, duration });

for (const url of urls) await run(url, Number(args.warmup ?? 1));
const totals = urls.map(() => ({
  requests: 0,
  seconds: 0,
  cpu: 0,
  non2xx: 0,
  errors: 0,
  sliceRps: [],
}));
for (let s = 0; s < slices; s++) {
  const order = s % 2 === 0 ? [0, 1] : [1, 0];
  for (const k of order) {
    const cpu0 = cpuSeconds(pids[k]);
    const r = await run(urls[k], slice);
    const cpu1 = cpuSeconds(pids[k]);
    const t = totals[k];
    t.requests += r.requests.total;
    t.seconds += r.duration;
    t.cpu += cpu1 - cpu0;
    t.non2xx += r.non2xx;
    t.errors += r.errors + r.timeouts;
    t.sliceRps.push(Math.round(r.requests.total / r.duration));
  }
}
process.stdout.write(
  `${JSON.stringify(
    totals.map(t => ({
      requestsPerSec: t.requests / t.seconds,
      cpuUsPerRequest: (t.cpu / t.requests) * 1e6,
      requests: t.requests,
      seconds: t.seconds,
      non2xx: t.non2xx,
      errors: t.errors,
      sliceRps: t.sliceRps,
    })),
  )}\n`,
);
