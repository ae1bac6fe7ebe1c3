// Scenario J client: `clients` token streams of `tokens` tokens at `rate`/s, one producer each.
//   --mode=runs    each client starts its own run (GET /run/j-<i>); the clients picked by `--drop`
//                  (a fraction, spread evenly) drop their connection once, after a number of tokens
//                  that varies per client (10-70 % of the run), wait 100-500 ms, and re-attach with
//                  Last-Event-ID (GET /attach/j-<i>); every stream ends with `event: end`
//   --mode=plain   the same streams from a plain @Flush() async generator, nobody drops
// Checks every client got every token exactly once, in order; measures the server's CPU from its
// own process.cpuUsage() (GET /stats before the first request and after the last stream ended),
// its RSS (sampled every 250 ms), and publish-to-receive latency of live tokens.
import http from 'node:http';
import { nowMs, parseArgs } from '../lib/common.mjs';
import { getJson, percentile, sleep } from './streams.mjs';

const args = parseArgs();
const url = args.url;
const n = Number(args.clients);
const tokens = Number(args.tokens);
const rate = Number(args.rate);
const mode = args.mode ?? 'runs';
const dropFraction = mode === 'runs' ? Number(args.drop ?? 0.5) : 0;
const CONCURRENCY = 100;

const LF2 = Buffer.from('\n\n');
const ID = Buffer.from('id: ');
const DATA_T = Buffer.from('{"t":');
const COMMA_I = Buffer.from(',"i":');
const END = Buffer.from('event: end');

/** SSE scanner: `onToken(t, i, id)` per token event, `onEnd(data)` for `event: end`. */
const createScanner = (onToken, onEnd) => {
  let rest;
  return chunk => {
    const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const end = buf.indexOf(LF2, start);
      if (end < 0) break;
      const idAt = buf.indexOf(ID, start);
      const id =
        idAt >= 0 && idAt < end ? buf.latin1Slice(idAt + ID.length, buf.indexOf(10, idAt)) : '';
      const endAt = buf.indexOf(END, start);
      if (endAt >= 0 && endAt < end) {
        const dataAt = buf.indexOf('data: ', endAt);
        onEnd(dataAt >= 0 && dataAt < end ? buf.toString('utf8', dataAt + 6, end) : '');
      } else {
        const d = buf.indexOf(DATA_T, start);
        if (d >= 0 && d < end) {
          const tStart = d + DATA_T.length;
          const iMark = buf.indexOf(COMMA_I, tStart);
          if (iMark > 0 && iMark < end) {
            const t = Number(buf.latin1Slice(tStart, iMark));
            let j = iMark + COMMA_I.length;
            let i = 0;
            for (let c = buf[j]; c >= 48 && c <= 57; c = buf[++j]) i = i * 10 + (c - 48);
            onToken(t, i, id);
          }
        }
      }
      start = end + 2;
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
  };
};

// ---- per client state -------------------------------------------------------------------------
const lastSeen = new Int32Array(n).fill(-1);
const received = new Int32Array(n);
const lastId = new Array(n).fill('');
const liveFrom = new Float64Array(n); // tokens sent before this (replayed ones) have no latency
const latencies = new Float64Array(n * tokens);
let samples = 0;
let gaps = 0;
let duplicates = 0;
let dropped = 0;
let reattached = 0;
let completed = 0;
let incomplete = 0;
let connectFailures = 0;
const statuses = {};
const endStatuses = {};

const dropsAt = i => {
  const picked = Math.floor((i + 1) * dropFraction) > Math.floor(i * dropFraction);
  if (!picked) return -1;
  const spread = (i * 0.6180339887) % 1; // evenly spread, the same in every run
  return 1 + Math.floor(tokens * (0.1 + 0.6 * spread));
};
const gapMs = i => 100 + ((i * 37) % 400);

let finished;
const allDone = new Promise(resolve => (finished = resolve));
const settle = () => {
  if (completed + incomplete === n) finished();
};

/** One HTTP stream of client `index`; resolves once its response headers came (or it failed). */
const open = (index, path, headers = {}) =>
  new Promise(resolve => {
    let ended = false;
    let leaving = false;
    const drop = dropsAt(index);
    const req = http.get(`${url}${path}`, { agent: false, headers });
    const scan = createScanner(
      (t, i, id) => {
        const now = nowMs();
        if (i <= lastSeen[index]) {
          duplicates++;
          return;
        }
        if (i !== lastSeen[index] + 1) gaps++;
        lastSeen[index] = i;
        lastId[index] = id;
        received[index]++;
        if (t >= liveFrom[index] && samples < latencies.length) latencies[samples++] = now - t;
        if (drop > 0 && received[index] === drop && path.startsWith('/run/')) {
          // Drop this connection once, then re-attach from the last id seen.
          leaving = true;
          dropped++;
          req.destroy();
          setTimeout(() => {
            liveFrom[index] = nowMs();
            reattached++;
            void open(index, `/attach/j-${index}`, { 'last-event-id': lastId[index] });
          }, gapMs(index));
        }
      },
      data => {
        ended = true;
        let status = '?';
        try {
          status = JSON.parse(data).status;
        } catch {
          // counted as '?'
        }
        endStatuses[status] = (endStatuses[status] ?? 0) + 1;
      },
    );
    req.on('response', res => {
      statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
      resolve();
      res.on('data', chunk => {
        if (!leaving) scan(chunk);
      });
      res.on('error', () => undefined);
      res.on('close', () => {
        if (leaving) return;
        const complete = mode === 'runs' ? ended : lastSeen[index] === tokens - 1;
        if (complete) completed++;
        else incomplete++;
        settle();
      });
    });
    req.on('error', () => {
      if (leaving) return;
      connectFailures++;
      incomplete++;
      settle();
      resolve();
    });
  });

// ---- the measurement --------------------------------------------------------------------------
const cpuOf = s => s.cpuUserUs + s.cpuSystemUs;
const before = await getJson(`${url}/stats`);
const t0 = nowMs();
let rssMax = before.rss;
const rssSampler = setInterval(() => {
  getJson(`${url}/stats`).then(
    s => (rssMax = Math.max(rssMax, s.rss)),
    () => undefined,
  );
}, 250);

let next = 0;
const worker = async () => {
  while (next < n) {
    const i = next++;
    await open(i, `/run/j-${i}?n=${tokens}&rate=${rate}`);
  }
};
await Promise.all(Array.from({ length: Math.min(CONCURRENCY, n) }, worker));
const opened = nowMs();
const deadline = opened + (tokens / rate) * 1000 + 60_000;
const timedOut = await Promise.race([
  allDone.then(() => false),
  (async () => {
    while (nowMs() < deadline) await sleep(200);
    return true;
  })(),
]);
const t1 = nowMs();
clearInterval(rssSampler);
const after = await getJson(`${url}/stats`);
const cpuSeconds = (cpuOf(after) - cpuOf(before)) / 1e6;
const wallSeconds = (t1 - t0) / 1000;
const lat = latencies.subarray(0, samples).sort();
process.stdout.write(
  `${JSON.stringify({
    mode,
    clients: n,
    tokens,
    rate,
    expected: n * tokens,
    received: received.reduce((a, b) => a + b, 0),
    lost: n * tokens - received.reduce((a, b) => a + b, 0),
    gaps,
    duplicates,
    dropped,
    reattached,
    completed,
    incomplete,
    timedOut,
    connectFailures,
    statuses,
    endStatuses,
    openSeconds: (opened - t0) / 1000,
    wallSeconds,
    cpuSeconds,
    cpuUserSeconds: (after.cpuUserUs - before.cpuUserUs) / 1e6,
    cpuSystemSeconds: (after.cpuSystemUs - before.cpuSystemUs) / 1e6,
    cpuPercent: (cpuSeconds / wallSeconds) * 100,
    cpuUsPerToken: (cpuSeconds * 1e6) / (n * tokens),
    rssBefore: before.rss,
    rssMax: Math.max(rssMax, after.rss),
    rssAfter: after.rss,
    published: after.published - before.published,
    p50: percentile(lat, 50),
    p95: percentile(lat, 95),
    p99: percentile(lat, 99),
  })}\n`,
);
