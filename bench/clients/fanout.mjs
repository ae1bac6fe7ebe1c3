// Scenario B (and F) client: N subscribers; the server broadcasts `rate` events/s for `duration` s
// (its own timer, started by GET /start). Measures delivered events, losses, publish-to-receive
// latency (send time in the event, monotonic clock) and the server's CPU (from /proc).
import { nowMs, parseArgs } from '../lib/common.mjs';
import { cpuTimes } from '../lib/proc.mjs';
import { createScanner } from './sse-scan.mjs';
import { getJson, openStreams, percentile, sleep, waitForCount } from './streams.mjs';

const args = parseArgs();
const url = args.url;
const pubUrl = args.pubUrl ?? url;
const n = Number(args.clients);
const pids = String(args.pid).split(',').map(Number); // CPU of these (the publishing and/or subscribed servers)
const phases = String(args.phases)
  .split(',')
  .map(p => p.split('x').map(Number))
  .map(([rate, duration]) => ({ rate, duration }));

// Per phase state, reset before each phase.
let base = 0;
let total = 0;
let latencies = new Float64Array(0);
let samples = 0;
let delivered = 0;
let duplicates = 0;
let lastReceive = 0;
const lastSeen = new Float64Array(n).fill(-1);
let outOfPhase = 0;

const scanners = Array.from({ length: n }, (_, index) => {
  let now = 0;
  const scan = createScanner((t, i) => {
    if (i < base || i >= base + total) {
      outOfPhase++;
      return;
    }
    if (i <= lastSeen[index]) {
      duplicates++;
      return;
    }
    lastSeen[index] = i;
    delivered++;
    if (samples < latencies.length) latencies[samples++] = now - t;
    lastReceive = now;
  });
  return chunk => {
    now = nowMs();
    scan(chunk);
  };
});

const streams = await openStreams(`${url}/sub`, n, {
  onChunk: (index, chunk) => scanners[index](chunk),
  localAddresses: args.localAddresses ? String(args.localAddresses).split(',') : undefined,
  concurrency: Number(args.concurrency ?? 100),
});
await waitForCount(url, c => c >= n, Number(args.openTimeoutMs ?? 60000));
await sleep(300);

const results = [];
for (const [index, { rate, duration }] of phases.entries()) {
  base = (index + 1) * 1_000_000;
  total = Math.round(rate * duration);
  latencies = new Float64Array(total * n);
  samples = 0;
  delivered = 0;
  duplicates = 0;
  outOfPhase = 0;
  lastReceive = 0;
  lastSeen.fill(-1);
  // CPU sampled every 50 ms; the window ends at the first sample after the last delivery.
  const cpu = [];
  const sample = () => {
    const t = pids.map(cpuTimes);
    const user = t.reduce((sum, x) => sum + x.user, 0);
    const system = t.reduce((sum, x) => sum + x.system, 0);
    cpu.push({ at: nowMs(), s: user + system, user, system });
  };
  sample();
  const started = cpu[0].at;
  const sampler = setInterval(sample, 50);
  await getJson(`${pubUrl}/start?rate=${rate}&duration=${duration}&base=${base}`);
  const deadline = started + duration * 1000 + 3000;
  while (delivered < total * n && nowMs() < deadline) await sleep(20);
  await sleep(60);
  clearInterval(sampler);
  sample();
  const windowEnd = Math.max(lastReceive, started + duration * 1000);
  const end = cpu.find(c => c.at >= windowEnd) ?? cpu.at(-1);
  const cpuPercent = ((end.s - cpu[0].s) / ((end.at - started) / 1000)) * 100;
  const lat = latencies.subarray(0, samples).sort();
  results.push({
    rate,
    duration,
    clients: n,
    published: total,
    expected: total * n,
    delivered,
    lost: total * n - delivered,
    duplicates,
    outOfPhase,
    deliveredPerSec: delivered / ((Math.max(lastReceive, started) - started) / 1000),
    p50: percentile(lat, 50),
    p95: percentile(lat, 95),
    p99: percentile(lat, 99),
    max: lat.at(-1),
    cpuPercent,
    cpuUserPercent: ((end.user - cpu[0].user) / ((end.at - started) / 1000)) * 100,
    cpuSystemPercent: ((end.system - cpu[0].system) / ((end.at - started) / 1000)) * 100,
    cpuWindowMs: end.at - started,
  });
  await sleep(500);
}
streams.close();
process.stdout.write(
  `${JSON.stringify({
    phases: results,
    connectFailures: streams.failed,
    closedByServer: streams.closedByServer,
  })}\n`,
);
