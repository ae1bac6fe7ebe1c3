#!/usr/bin/env node
// Benchmarks of nestjs-flush against a raw node:http floor, better-sse and NestJS's own @Sse(),
// in the same run. Usage:
//   node bench/run.mjs                 full run (3 runs of each figure; 15-16 minutes on the 2-core
//                                      project VM, F included; --runs=2 takes about 10)
//   node bench/run.mjs --quick         everything with smaller numbers, 1 run (about 2 minutes)
//   node bench/run.mjs --only=A,C      pick scenarios (A burst, B fan-out, C idle, D churn,
//                                      E exclusion cost, F cross-instance latency via Redis,
//                                      G idle 10-channel hub streams vs one-channel ones,
//                                      J runs: 1000 hub.run() token streams, half re-attaching,
//                                      against plain @Flush() generators)
//   --runs=N  --profile (servers of nestjs-flush write --cpu-prof profiles to bench/results/profiles)
//   --no-md   do not rewrite bench/RESULTS.md (latest.json only)
//   --report-only   re-render bench/RESULTS.md from bench/results/latest.json, run nothing
//   --maxForeign=N --retries=N   measure again (at most N times) when other processes took more
//                   than N % of a core during a measurement (default 30 %, 2 retries; A to D)
//   --maxSlowdown=N  measure again (same retries) when the server's core ran more than N % slower
//                   than at the start, timed by a fixed CPU loop before and after (default 15 %)
//   --note="..."    a note printed at the top of RESULTS.md
//   --only=K        20k streams in one process (bench/scale.mjs); --only=L the rolling deploy
//                   (bench/rolling-deploy.mjs, needs REDIS_URL); their options pass through
// Servers run pinned to core 0 and clients to core 1 (taskset), all on 127.0.0.1.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/common.mjs';
import {
  CLK_TCK,
  cpuSeconds,
  HAS_TASKSET,
  killAll,
  machineTicks,
  spawnNode,
  statusBytes,
  stop,
  waitForLine,
  waitQuiet,
} from './lib/proc.mjs';
import { renderMarkdown } from './lib/report.mjs';
import { withBlocksOf } from './lib/blocks.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const RESULTS_DIR = path.join(BENCH, 'results');
const args = parseArgs();
const quick = Boolean(args.quick);
const only = args.only
  ? String(args.only).toUpperCase().split(',')
  : ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J'];
const runs = Number(args.runs ?? (quick ? 1 : 3));
const profile = Boolean(args.profile);

// ---- configuration -------------------------------------------------------------------------
const CONFIG = quick
  ? {
      burst: { events: 50_000, warmup: 5_000 },
      fanout: {
        clients: 500,
        phases: [
          { rate: 20, duration: 3 },
          { rate: 100, duration: 3 },
        ],
      },
      idle: { clients: 1000 },
      churn: { cycles: 1000, concurrency: 50, trickleMs: 2 },
      exclusion: { slices: 3, slice: 1, warmup: 1, connections: 50 },
      redis: { clients: 100, rate: 20, duration: 3 },
      runs: { clients: 500, tokens: 200, rate: 50, drop: 0.5 },
    }
  : {
      burst: { events: 200_000, warmup: 20_000 },
      fanout: {
        clients: 1000,
        phases: [
          { rate: 20, duration: 10 },
          { rate: 100, duration: 10 },
        ],
      },
      idle: { clients: 5000 },
      churn: { cycles: 5000, concurrency: 50, trickleMs: 2 },
      exclusion: { slices: 10, slice: 1, warmup: 2, connections: 50 },
      redis: { clients: 100, rate: 20, duration: 10 },
      runs: { clients: 1000, tokens: 500, rate: 50, drop: 0.5 },
    };
// Whole-run bound: past it every child is killed and what was measured is written.
const TOTAL_LIMIT_MS = Number(args.limitMs ?? (quick ? 8 : 30) * 60_000);
// Before each measurement, wait (at most this long) for the machine to be nearly idle.
const QUIET_MAX_MS = Number(args.quietMs ?? (quick ? 1500 : 3000));
// A measurement during which other processes took more than MAX_FOREIGN % of a core is taken
// again, at most RETRIES times (A to D); the least disturbed attempt is kept.
const MAX_FOREIGN = Number(args.maxForeign ?? 30);
const RETRIES = Number(args.retries ?? (quick ? 0 : 2));
const MAX_SLOWDOWN = Number(args.maxSlowdown ?? 15);

/**
 * Times a fixed CPU-bound loop on the servers' core (ms, inside the process: no start-up cost).
 * This VM's core slows down at times (user and system time of any server rise by half at once);
 * a measurement taken then is not comparable, whatever the foreign load says.
 */
const probeCore = () => {
  const loop =
    'const t=process.hrtime.bigint();let x=0;for(let i=0;i<3e7;i++)x=(x*31+i)%1000003;' +
    'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6)+(x<0?"!":""))';
  const argv = HAS_TASKSET
    ? ['taskset', ['-c', '0', process.execPath, '-e', loop]]
    : [process.execPath, ['-e', loop]];
  const ms = Number(spawnSync(argv[0], argv[1], { encoding: 'utf8' }).stdout);
  return Number.isFinite(ms) && ms > 0 ? ms : undefined;
};
let coreBaselineMs;
/** The core's speed at the start: the median of five probes. */
const calibrateCore = () => {
  const v = Array.from({ length: 5 }, probeCore)
    .filter(n => n !== undefined)
    .sort((a, b) => a - b);
  coreBaselineMs = v.length ? v[v.length >> 1] : undefined;
  return coreBaselineMs;
};
/** How much slower the core ran than at the start, in %, from probes before and after. */
const coreSlowdown = (...probes) => {
  const v = probes.filter(n => n !== undefined);
  if (!coreBaselineMs || v.length === 0) return undefined;
  return Math.max(0, (Math.max(...v) / coreBaselineMs - 1) * 100);
};

const nestApp = (kind, adapter, extra = []) => ({
  script: 'servers/nest-app.mjs',
  args: [`--kind=${kind}`, `--adapter=${adapter}`, ...extra],
});
export const SERVERS = {
  raw: { label: 'node:http floor', ...{ script: 'servers/raw.mjs', args: [] } },
  'better-sse': { label: 'Express + better-sse', script: 'servers/better-sse.mjs', args: [] },
  'express-floor': {
    label: 'plain Express, SSE by hand (reference)',
    script: 'servers/express-floor.mjs',
    args: [],
  },
  'nest-express': { label: 'Nest @Sse() express', ...nestApp('nest-sse', 'express') },
  'nest-fastify': { label: 'Nest @Sse() fastify', ...nestApp('nest-sse', 'fastify') },
  'flush-express': {
    label: 'nestjs-flush @Flush() express',
    ours: true,
    ...nestApp('flush', 'express'),
  },
  'flush-fastify': {
    label: 'nestjs-flush @Flush() fastify',
    ours: true,
    ...nestApp('flush', 'fastify'),
  },
  'hub-sse': { label: 'FlushHub + @Sse() express', ours: true, ...nestApp('hub-sse', 'express') },
  'hub-sse-fastify': {
    label: 'FlushHub + @Sse() fastify',
    ours: true,
    ...nestApp('hub-sse', 'fastify'),
  },
  'hub-flush': {
    label: 'FlushHub + @Flush() express',
    ours: true,
    ...nestApp('hub-flush', 'express'),
  },
  'hub-flush-fastify': {
    label: 'FlushHub + @Flush() fastify',
    ours: true,
    ...nestApp('hub-flush', 'fastify'),
  },
  'hub-sse-controls': {
    label: 'FlushHub + @Sse() express, with maxStreamsPerKey and maxLifetimeMs',
    ours: true,
    ...nestApp('hub-sse', 'express', ['--controls=1']),
  },
  'hub-sse-prometheus': {
    label: 'FlushHub + @Sse() express, with FlushPrometheusModule (scraped every 5 s)',
    ours: true,
    ...nestApp('hub-sse', 'express', ['--prometheus=1']),
  },
  'hub-sse-10ch': {
    label: 'FlushHub + @Sse() express, 10 channels per stream',
    ours: true,
    ...nestApp('hub-sse', 'express', ['--channels=10']),
  },
  'runs-plain': {
    label: '@Flush() async generator per client, no runs (express)',
    ours: true,
    script: 'servers/runs-app.mjs',
    args: ['--mode=plain'],
  },
  'runs-runs': {
    label: 'hub.run() per client from @Flush(), half re-attaching (express)',
    ours: true,
    script: 'servers/runs-app.mjs',
    args: ['--mode=runs'],
  },
};
/** The Nest @Sse() server each one is compared with (same adapter). */
export const NEST_OF = id => (id.endsWith('fastify') ? 'nest-fastify' : 'nest-express');

const SCENARIO_SERVERS = {
  A: ['raw', 'better-sse', 'nest-express', 'nest-fastify', 'flush-express', 'flush-fastify'],
  B: [
    'raw',
    'better-sse',
    'nest-express',
    'nest-fastify',
    'hub-sse',
    'hub-sse-fastify',
    'hub-flush',
  ],
  C: [
    'raw',
    'express-floor',
    'better-sse',
    'nest-express',
    'nest-fastify',
    'flush-express',
    'flush-fastify',
    'hub-sse',
    'hub-sse-fastify',
    'hub-flush',
    'hub-flush-fastify',
  ],
  D: ['hub-flush', 'hub-sse'],
  G: ['hub-sse', 'hub-sse-10ch'],
  H: ['hub-sse', 'hub-sse-controls'],
  I: ['hub-sse', 'hub-sse-prometheus'],
  J: ['runs-plain', 'runs-runs'],
};
const EXCLUSION_VARIANTS = [
  {
    id: 'none-without',
    interceptor: false,
    flush: false,
    label: 'no interceptor, without FlushModule',
  },
  { id: 'none-with', interceptor: false, flush: true, label: 'no interceptor, with FlushModule' },
  {
    id: 'envelope-without',
    interceptor: true,
    flush: false,
    label: 'envelope interceptor, without FlushModule',
  },
  {
    id: 'envelope-with',
    interceptor: true,
    flush: true,
    label: 'envelope interceptor, with FlushModule',
  },
];

// ---- plumbing ------------------------------------------------------------------------------
const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

const cleanup = () => killAll();
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    log(`\n${signal}: stopping every child process`);
    killAll();
    process.exit(130);
  });
}
process.on('uncaughtException', err => {
  log(`uncaught: ${err.stack ?? err}`);
  killAll();
  process.exit(1);
});

const ensureBuilt = () => {
  if (existsSync(path.join(ROOT, 'dist', 'index.js'))) return;
  log('dist/ is missing: npm run build');
  const r = spawnSync('npm', ['run', 'build'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (r.status !== 0 || !existsSync(path.join(ROOT, 'dist', 'index.js'))) {
    log('npm run build failed: nothing to benchmark');
    process.exit(1);
  }
};

const startServer = async (id, server, extraArgs = [], env = {}) => {
  const nodeArgs = ['--expose-gc'];
  if (profile && server.ours) {
    const dir = path.join(RESULTS_DIR, 'profiles');
    mkdirSync(dir, { recursive: true });
    nodeArgs.push(
      '--cpu-prof',
      `--cpu-prof-dir=${dir}`,
      `--cpu-prof-name=${id}-${Date.now()}.cpuprofile`,
    );
  }
  const child = spawnNode(
    0,
    nodeArgs,
    path.join(BENCH, server.script),
    [...server.args, ...extraArgs],
    { cwd: ROOT, env },
  );
  const ready = await waitForLine(child, v => v.ready === true, 30_000, `server ${id}`);
  return { child, pid: ready.pid, url: `http://127.0.0.1:${ready.port}` };
};

const runClient = async (script, clientArgs, timeoutMs, what) => {
  const child = spawnNode(1, [], path.join(BENCH, 'clients', script), clientArgs, { cwd: ROOT });
  try {
    const result = await waitForLine(child, () => true, timeoutMs, what);
    let cpu;
    try {
      cpu = cpuSeconds(child.pid);
    } catch {
      // already gone
    }
    Object.defineProperty(result, 'clientCpuSeconds', { value: cpu, enumerable: false });
    return result;
  } finally {
    await stop(child, 500);
  }
};

/**
 * CPU that other processes used while a measurement ran, in % of one core: the machine's busy
 * time less the server's and the client's. Large values mean the figure is skewed.
 */
const foreignLoad = (m0, m1, ownSeconds, wallMs) =>
  Math.max(0, ((m1.busy - m0.busy) / CLK_TCK - ownSeconds) / (wallMs / 1000)) * 100;

/** One server, one client, bounded; never throws: an error becomes { error }. */
const measureOnce = async (
  id,
  server,
  { serverArgs = [], client, clientArgs, timeoutMs, after },
) => {
  if (Date.now() - started > TOTAL_LIMIT_MS)
    return { error: 'skipped: whole-run time limit reached' };
  let srv;
  try {
    const quietWaitMs = await waitQuiet(QUIET_MAX_MS);
    const probeBefore = probeCore();
    srv = await startServer(id, server, serverArgs);
    const m0 = machineTicks();
    const s0 = cpuSeconds(srv.pid);
    const t0 = Date.now();
    const result = await runClient(
      client,
      [`--url=${srv.url}`, `--pid=${srv.pid}`, ...clientArgs],
      timeoutMs,
      `${client} on ${id}`,
    );
    const own = cpuSeconds(srv.pid) - s0 + (result.clientCpuSeconds ?? 0);
    result.foreignCpuPercent = foreignLoad(m0, machineTicks(), own, Date.now() - t0);
    result.quietWaitMs = quietWaitMs;
    if (after) Object.assign(result, after(srv));
    await stop(srv.child);
    srv = undefined;
    result.coreSlowdownPercent = coreSlowdown(probeBefore, probeCore());
    return result;
  } catch (err) {
    return { error: String(err.message ?? err).slice(0, 800) };
  } finally {
    if (srv) await stop(srv.child);
  }
};

/** Why a measurement is not comparable, or undefined when it is. */
const disturbance = result => {
  if (result.foreignCpuPercent > MAX_FOREIGN)
    return `other processes took ${result.foreignCpuPercent.toFixed(0)} % of a core (> ${MAX_FOREIGN} %)`;
  if (result.coreSlowdownPercent > MAX_SLOWDOWN)
    return `the server's core ran ${result.coreSlowdownPercent.toFixed(0)} % slower than at the start (> ${MAX_SLOWDOWN} %)`;
  return undefined;
};
/** Orders attempts: undisturbed first, then the least foreign load and core slowdown. */
const disturbanceScore = result =>
  (disturbance(result) ? 1000 : 0) + result.foreignCpuPercent + (result.coreSlowdownPercent ?? 0);

/**
 * measureOnce, measured again (at most RETRIES times) while it was disturbed: other processes
 * took more than MAX_FOREIGN % of a core, or the server's core ran more than MAX_SLOWDOWN %
 * slower than at the start. The least disturbed attempt is kept, with `attempts`, its own
 * `foreignCpuPercent` and `coreSlowdownPercent`, so a disturbed figure stays visible.
 */
const measure = async (id, server, options) => {
  let best;
  for (let attempt = 1; ; attempt++) {
    const result = await measureOnce(id, server, options);
    if (result.error) return best ?? { ...result, attempts: attempt };
    if (best === undefined || disturbanceScore(result) < disturbanceScore(best)) best = result;
    best.attempts = attempt;
    const why = disturbance(result);
    if (!why || attempt > RETRIES) return best;
    if (Date.now() - started > TOTAL_LIMIT_MS) return best;
    log(`[${elapsed()}] ${id}: ${why}: measuring again`);
  }
};

const median = values => {
  const v = values.filter(x => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
};

/** Medians over runs of each metric; ratios computed within each run, then their median. */
const summarize = (runsOut, ids, metrics) => {
  const summary = {};
  for (const id of ids) {
    const row = { runs: runsOut.map(r => r[id]).filter(Boolean) };
    for (const metric of metrics) {
      row[metric] = median(row.runs.map(r => r[metric]));
      row[`${metric}/floor`] = median(runsOut.map(r => ratio(r[id]?.[metric], r.raw?.[metric])));
      row[`${metric}/nest`] = median(
        runsOut.map(r => ratio(r[id]?.[metric], r[NEST_OF(id)]?.[metric])),
      );
    }
    row.errors = row.runs.filter(r => r.error).map(r => r.error);
    delete row.runs;
    summary[id] = row;
  }
  return summary;
};
const ratio = (a, b) =>
  typeof a === 'number' && typeof b === 'number' && b !== 0 ? a / b : undefined;

/** Server order rotates from run to run, so drift on a shared machine hits every server alike. */
const rotate = (list, r) => list.map((_, i) => list[(i + r) % list.length]);

// ---- scenarios -----------------------------------------------------------------------------
const scenarioA = async () => {
  const { events, warmup } = CONFIG.burst;
  const out = [];
  for (let r = 0; r < runs; r++) {
    const run = {};
    for (const id of rotate(SCENARIO_SERVERS.A, r)) {
      run[id] = await measure(id, SERVERS[id], {
        client: 'burst.mjs',
        clientArgs: [`--n=${events}`, `--warmup=${warmup}`],
        timeoutMs: 120_000,
        after: srv => ({
          peakRss: statusBytes(srv.pid, 'VmHWM'),
          serverCpuSeconds: cpuSeconds(srv.pid),
        }),
      });
      log(
        `[${elapsed()}] A run ${r + 1} ${id}: ${fmt(run[id].eventsPerSec, 0)} events/s, ${fmt(run[id].cpuUsPerEvent, 2)} µs CPU/event, peak RSS ${mb(run[id].peakRss)} ${run[id].error ?? ''}`,
      );
    }
    out.push(run);
  }
  return {
    config: CONFIG.burst,
    runs: out,
    summary: summarize(out, SCENARIO_SERVERS.A, ['eventsPerSec', 'cpuUsPerEvent', 'peakRss']),
  };
};

const scenarioB = () => fanoutRuns('B', SCENARIO_SERVERS.B);

/**
 * H: the fan-out of B on hub + @Sse() with a cap and a lifetime configured against the same
 * server without them (issue 18 target: CPU within 3 %).
 */
const scenarioH = () => fanoutWithAndWithout('H', 'hub-sse-controls', 'controls');

/**
 * I: the fan-out of B on hub + @Sse() with FlushPrometheusModule on against the same server
 * without it (issue 21 target: CPU within 5 %).
 */
const scenarioI = () => fanoutWithAndWithout('I', 'hub-sse-prometheus', 'Prometheus');

/** A fan-out scenario of hub-sse against `variant`: per phase, the median CPU ratio. */
const fanoutWithAndWithout = async (scenario, variant, what) => {
  const result = await fanoutRuns(scenario, SCENARIO_SERVERS[scenario]);
  for (const phase of result.phases) {
    const ratios = phase.runs.map(run =>
      ratio(run[variant]?.cpuPercent, run['hub-sse']?.cpuPercent),
    );
    phase.cpuRatio = median(ratios.filter(x => typeof x === 'number'));
    log(
      `[${elapsed()}] ${scenario} ${phase.rate}/s: CPU with ${what} / without = ${fmt(phase.cpuRatio, 3)}x`,
    );
  }
  return result;
};

/** Fan-out runs (B, H) on `ids`: per phase, per run, each server's figures. */
const fanoutRuns = async (scenario, ids) => {
  const { clients, phases } = CONFIG.fanout;
  const phaseArg = phases.map(p => `${p.rate}x${p.duration}`).join(',');
  const out = phases.map(() => []);
  for (let r = 0; r < runs; r++) {
    const perPhase = phases.map(() => ({}));
    for (const id of rotate(ids, r)) {
      const result = await measure(id, SERVERS[id], {
        client: 'fanout.mjs',
        clientArgs: [`--clients=${clients}`, `--phases=${phaseArg}`],
        timeoutMs: 90_000 + phases.reduce((s, p) => s + p.duration * 1000 + 5000, 0),
      });
      phases.forEach((p, i) => {
        perPhase[i][id] = result.error
          ? { error: result.error }
          : {
              ...result.phases[i],
              foreignCpuPercent: result.foreignCpuPercent,
              coreSlowdownPercent: result.coreSlowdownPercent,
              attempts: result.attempts,
              closedByServer: result.closedByServer,
            };
        const x = perPhase[i][id];
        log(
          `[${elapsed()}] ${scenario} run ${r + 1} ${id} ${p.rate}/s: CPU ${fmt(x.cpuPercent, 1)} %, p99 ${fmt(x.p99, 1)} ms, lost ${x.lost ?? '?'} ${x.error ?? ''}`,
        );
      });
    }
    perPhase.forEach((run, i) => out[i].push(run));
  }
  const metrics = ['deliveredPerSec', 'lost', 'closedByServer', 'p50', 'p95', 'p99', 'cpuPercent'];
  return {
    config: CONFIG.fanout,
    phases: phases.map((p, i) => ({
      ...p,
      clients,
      runs: out[i],
      summary: summarize(out[i], ids, metrics),
    })),
  };
};

/** Runs of the idle client (C, G) on `ids`: RSS per connection of each server, per run. */
const idleRuns = async (scenario, ids) => {
  const { clients } = CONFIG.idle;
  const out = [];
  for (let r = 0; r < runs; r++) {
    const run = {};
    for (const id of rotate(ids, r)) {
      run[id] = await measure(id, SERVERS[id], {
        client: 'idle.mjs',
        clientArgs: [`--clients=${clients}`],
        timeoutMs: 180_000,
      });
      log(
        `[${elapsed()}] ${scenario} run ${r + 1} ${id}: ${kb(run[id].rssPerConnection)} per connection ${run[id].error ?? ''}`,
      );
    }
    out.push(run);
  }
  return out;
};

const scenarioC = async () => {
  const out = await idleRuns('C', SCENARIO_SERVERS.C);
  return {
    config: CONFIG.idle,
    runs: out,
    summary: summarize(out, SCENARIO_SERVERS.C, ['rssPerConnection', 'heapPerConnection']),
  };
};

/** G: idle RSS per stream of a 10-channel hub stream against a one-channel one (target < 2x). */
const scenarioG = async () => {
  const out = await idleRuns('G', SCENARIO_SERVERS.G);
  const ratios = out.map(run =>
    ratio(run['hub-sse-10ch'].rssPerConnection, run['hub-sse'].rssPerConnection),
  );
  ratios.forEach((x, r) =>
    log(`[${elapsed()}] G run ${r + 1}: 10 channels / 1 channel = ${fmt(x, 3)}x`),
  );
  return {
    config: CONFIG.idle,
    runs: out,
    summary: summarize(out, SCENARIO_SERVERS.G, ['rssPerConnection', 'heapPerConnection']),
    ratio: median(ratios.filter(x => typeof x === 'number')),
  };
};

const scenarioD = async () => {
  const { cycles, concurrency, trickleMs } = CONFIG.churn;
  const out = [];
  for (let r = 0; r < runs; r++) {
    const run = {};
    for (const id of SCENARIO_SERVERS.D) {
      run[id] = await measure(id, SERVERS[id], {
        serverArgs: [`--trickleMs=${trickleMs}`],
        client: 'churn.mjs',
        clientArgs: [`--cycles=${cycles}`, `--concurrency=${concurrency}`],
        timeoutMs: 180_000,
      });
      const x = run[id];
      log(
        `[${elapsed()}] D run ${r + 1} ${id}: ${x.openSubscriptions ?? '?'} open, heap ${pct(x.heapGrowth)} ${x.error ?? ''}`,
      );
    }
    out.push(run);
  }
  const summary = {};
  for (const id of SCENARIO_SERVERS.D) {
    const rs = out.map(r => r[id]).filter(x => x && !x.error);
    summary[id] = {
      openSubscriptions: Math.max(...rs.map(x => x.openSubscriptions ?? Infinity)),
      heapGrowth: median(rs.map(x => x.heapGrowth)),
      heapBefore: median(rs.map(x => x.heapBefore)),
      heapAfter: median(rs.map(x => x.heapAfter)),
      cyclesPerSec: median(rs.map(x => x.cyclesPerSec)),
      failures: rs.reduce((s, x) => s + (x.failures ?? 0), 0),
      errors: out.map(r => r[id]?.error).filter(Boolean),
    };
  }
  return { config: CONFIG.churn, runs: out, summary };
};

const scenarioE = async () => {
  const { slices, slice, warmup, connections } = CONFIG.exclusion;
  const out = [];
  for (let r = 0; r < runs; r++) {
    const run = {};
    for (const mode of r % 2 ? ['envelope', 'none'] : ['none', 'envelope']) {
      if (Date.now() - started > TOTAL_LIMIT_MS) break;
      // Both apps run at once (only the one under load uses the CPU); slices alternate between them.
      const variants = ['without', 'with'].map(w =>
        EXCLUSION_VARIANTS.find(v => v.id === `${mode}-${w}`),
      );
      const live = [];
      try {
        await waitQuiet(QUIET_MAX_MS);
        // Start order alternates too (the second process to start may get a different CPU state).
        for (const k of r % 2 ? [1, 0] : [0, 1]) {
          const v = variants[k];
          const server = {
            label: v.label,
            ours: v.flush,
            ...nestApp('plain', 'express', [
              `--flush=${v.flush ? 1 : 0}`,
              `--interceptor=${v.interceptor ? 1 : 0}`,
            ]),
          };
          live[k] = await startServer(v.id, server);
        }
        const m0 = machineTicks();
        const s0 = live.map(l => cpuSeconds(l.pid));
        const t0 = Date.now();
        const result = await runClient(
          'http-load.mjs',
          [
            `--urls=${live.map(l => l.url).join(',')}`,
            `--pids=${live.map(l => l.pid).join(',')}`,
            `--slices=${slices}`,
            `--slice=${slice}`,
            `--warmup=${warmup}`,
            `--connections=${connections}`,
          ],
          (slices * slice * 2 + warmup * 2) * 1000 + 60_000,
          `autocannon ${mode}`,
        );
        const own =
          live.reduce((sum, l, i) => sum + cpuSeconds(l.pid) - s0[i], 0) +
          (result.clientCpuSeconds ?? 0);
        const foreignCpuPercent = foreignLoad(m0, machineTicks(), own, Date.now() - t0);
        variants.forEach((v, i) => (run[v.id] = { ...result[i], foreignCpuPercent }));
      } catch (err) {
        for (const v of variants) run[v.id] = { error: String(err.message ?? err).slice(0, 800) };
      } finally {
        for (const l of live) if (l) await stop(l.child);
      }
      const [a, b] = variants.map(v => run[v.id]);
      log(
        `[${elapsed()}] E run ${r + 1} ${mode}: ${fmt(a.requestsPerSec, 0)} → ${fmt(b.requestsPerSec, 0)} req/s, ${fmt(a.cpuUsPerRequest, 1)} → ${fmt(b.cpuUsPerRequest, 1)} µs CPU/request ${a.error ?? ''}`,
      );
    }
    out.push(run);
  }
  const summary = {};
  for (const v of EXCLUSION_VARIANTS) {
    summary[v.id] = {
      label: v.label,
      requestsPerSec: median(out.map(r => r[v.id]?.requestsPerSec)),
      cpuUsPerRequest: median(out.map(r => r[v.id]?.cpuUsPerRequest)),
    };
  }
  for (const mode of ['none', 'envelope']) {
    summary[`${mode}-cost`] = median(
      out.map(
        r => 1 - ratio(r[`${mode}-with`]?.requestsPerSec, r[`${mode}-without`]?.requestsPerSec),
      ),
    );
    summary[`${mode}-cpuCost`] = median(
      out.map(
        r => ratio(r[`${mode}-with`]?.cpuUsPerRequest, r[`${mode}-without`]?.cpuUsPerRequest) - 1,
      ),
    );
  }
  return { config: CONFIG.exclusion, runs: out, summary };
};

const scenarioF = async () => {
  const redisUrl = process.env.REDIS_URL;
  const redisEntry = path.join(ROOT, 'dist', 'redis.js');
  if (!redisUrl) return { skipped: 'REDIS_URL is not set' };
  if (!existsSync(redisEntry))
    return { skipped: 'dist/redis.js does not exist (RedisFlushTransport not built)' };
  const { clients, rate, duration } = CONFIG.redis;
  const prefix = `nestjs-flush-bench:${process.pid}:`;
  const out = [];
  for (let r = 0; r < runs; r++) {
    const run = {};
    let a;
    let b;
    try {
      const server = { ...SERVERS['hub-flush'], ours: true };
      a = await startServer('redis-a', server, ['--transport=redis'], {
        BENCH_REDIS_PREFIX: prefix,
      });
      b = await startServer('redis-b', server, ['--transport=redis'], {
        BENCH_REDIS_PREFIX: prefix,
      });
      const timeoutMs = 90_000 + duration * 1000;
      // Published on A, received through B (cross-instance), then published and received on A.
      const cross = await runClient(
        'fanout.mjs',
        [
          `--url=${b.url}`,
          `--pubUrl=${a.url}`,
          `--pid=${a.pid},${b.pid}`,
          `--clients=${clients}`,
          `--phases=${rate}x${duration}`,
        ],
        timeoutMs,
        'redis cross',
      );
      const local = await runClient(
        'fanout.mjs',
        [
          `--url=${a.url}`,
          `--pid=${a.pid},${b.pid}`,
          `--clients=${clients}`,
          `--phases=${rate}x${duration}`,
        ],
        timeoutMs,
        'redis local',
      );
      run.cross = cross.phases[0];
      run.local = local.phases[0];
    } catch (err) {
      run.error = String(err.message ?? err).slice(0, 800);
    } finally {
      if (a) await stop(a.child);
      if (b) await stop(b.child);
    }
    log(
      `[${elapsed()}] F run ${r + 1}: cross p99 ${fmt(run.cross?.p99, 2)} ms, local p99 ${fmt(run.local?.p99, 2)} ms ${run.error ?? ''}`,
    );
    out.push(run);
  }
  const pick = (which, key) => median(out.map(r => r[which]?.[key]));
  const summary = {};
  for (const which of ['cross', 'local']) {
    summary[which] = Object.fromEntries(
      ['p50', 'p95', 'p99', 'lost', 'deliveredPerSec'].map(k => [k, pick(which, k)]),
    );
  }
  return {
    config: CONFIG.redis,
    runs: out,
    summary,
    errors: out.map(r => r.error).filter(Boolean),
  };
};

/**
 * J (issue 19): `clients` LLM-style token streams at `rate` tokens/s, one producer per client:
 * `hub.run()` from @Flush() with a `drop` fraction of the clients dropping once and re-attaching
 * with Last-Event-ID, against the same streams from a plain @Flush() async generator (nobody
 * drops). Server CPU is the server's own process.cpuUsage() over the whole load; the target is
 * runs <= 1.3x the plain CPU. RSS: the highest sampled and the peak (VmHWM).
 */
const scenarioJ = async () => {
  const { clients, tokens, rate, drop } = CONFIG.runs;
  const out = [];
  for (let r = 0; r < runs; r++) {
    const run = {};
    for (const id of rotate(SCENARIO_SERVERS.J, r)) {
      run[id] = await measure(id, SERVERS[id], {
        client: 'runs.mjs',
        clientArgs: [
          `--mode=${id === 'runs-runs' ? 'runs' : 'plain'}`,
          `--clients=${clients}`,
          `--tokens=${tokens}`,
          `--rate=${rate}`,
          `--drop=${drop}`,
        ],
        timeoutMs: 120_000 + (tokens / rate) * 1000,
        after: srv => ({ peakRss: statusBytes(srv.pid, 'VmHWM') }),
      });
      const x = run[id];
      log(
        `[${elapsed()}] J run ${r + 1} ${id}: CPU ${fmt(x.cpuSeconds, 2)} s (${fmt(x.cpuUsPerToken, 1)} µs/token, ${fmt(x.cpuPercent, 1)} %), RSS max ${mb(x.rssMax)}, lost ${x.lost ?? '?'}, dup ${x.duplicates ?? '?'}, re-attached ${x.reattached ?? '?'} ${x.error ?? ''}`,
      );
    }
    out.push(run);
  }
  const cpuRatio = runRatio(out, 'runs-runs', 'runs-plain', 'cpuSeconds');
  const rssRatio = runRatio(out, 'runs-runs', 'runs-plain', 'rssMax');
  log(`[${elapsed()}] J: CPU runs / plain = ${fmt(cpuRatio, 3)}x, RSS ${fmt(rssRatio, 3)}x`);
  return {
    config: CONFIG.runs,
    runs: out,
    summary: summarize(out, SCENARIO_SERVERS.J, [
      'cpuSeconds',
      'cpuUsPerToken',
      'cpuPercent',
      'rssMax',
      'peakRss',
      'p50',
      'p99',
      'lost',
      'duplicates',
    ]),
    cpuRatio,
    rssRatio,
    perRunCpuRatios: out.map(r => ratio(r['runs-runs']?.cpuSeconds, r['runs-plain']?.cpuSeconds)),
  };
};

// ---- targets -------------------------------------------------------------------------------
const targets = results => {
  const list = [];
  const add = (target, subject, value, limit, met, note = '') =>
    list.push({ target, subject, value, limit, met, note });
  if (results.A?.summary) {
    for (const id of ['flush-express', 'flush-fastify']) {
      const x = results.A.summary[id]?.['eventsPerSec/floor'];
      add('burst >= 0.8x the floor', SERVERS[id].label, x, 0.8, x !== undefined && x >= 0.8);
    }
  }
  if (results.B?.phases) {
    for (const phase of results.B.phases) {
      for (const id of ['hub-sse', 'hub-sse-fastify', 'hub-flush']) {
        if (!phase.summary[id]) continue;
        const s = phase.summary[id];
        const cpu = s['cpuPercent/floor'];
        const p99 = s['p99/floor'];
        // A server at 100 % CPU is saturated: its CPU ratio is only a lower bound of its demand.
        const saturated = s.cpuPercent >= 95;
        add(
          `fan-out ${phase.clients}x${phase.rate}/s CPU <= 1.2x the floor`,
          SERVERS[id].label,
          cpu,
          1.2,
          cpu === undefined
            ? false
            : cpu > 1.2 || (s.lost ?? 0) > 0
              ? false
              : saturated
                ? null
                : true,
          saturated
            ? `server saturated (${s.cpuPercent.toFixed(0)} % CPU): the ratio is a lower bound`
            : '',
        );
        add(
          `fan-out ${phase.clients}x${phase.rate}/s p99 <= 1.2x the floor`,
          SERVERS[id].label,
          p99,
          1.2,
          p99 !== undefined && p99 <= 1.2,
          (s.lost ?? 0) > 0 ? `${s.lost} deliveries still queued 3 s after the last publish` : '',
        );
      }
    }
  }
  if (results.C?.summary) {
    const express = results.C.summary['express-floor']?.['rssPerConnection/floor'];
    for (const id of [
      'flush-express',
      'flush-fastify',
      'hub-sse',
      'hub-sse-fastify',
      'hub-flush',
      'hub-flush-fastify',
    ]) {
      if (!results.C.summary[id]) continue;
      const x = results.C.summary[id]?.['rssPerConnection/floor'];
      add(
        'idle RSS per connection <= 1.3x the floor',
        SERVERS[id].label,
        x,
        1.3,
        x !== undefined && x <= 1.3,
        express !== undefined && !id.endsWith('fastify')
          ? `plain Express alone: ${express.toFixed(2)}× the floor`
          : '',
      );
    }
  }
  if (results.D?.summary) {
    for (const id of SCENARIO_SERVERS.D) {
      const s = results.D.summary[id];
      add(
        'churn leaves 0 subscriptions',
        SERVERS[id].label,
        s.openSubscriptions,
        0,
        s.openSubscriptions === 0,
      );
      add(
        'churn heap within 5 %',
        SERVERS[id].label,
        s.heapGrowth,
        0.05,
        s.heapGrowth !== undefined && Math.abs(s.heapGrowth) <= 0.05,
      );
    }
  }
  if (results.E?.summary) {
    for (const mode of ['none', 'envelope']) {
      const cost = results.E.summary[`${mode}-cost`];
      add(
        'exclusion costs < 2 % on plain routes',
        mode === 'none' ? 'no interceptor' : 'global envelope interceptor',
        cost,
        0.02,
        cost !== undefined && cost < 0.02,
      );
    }
  }
  if (results.J?.summary) {
    const J = results.J;
    const lost = Math.max(
      ...J.runs.flatMap(r =>
        Object.values(r).map(x => (x.error ? Infinity : x.lost + x.duplicates)),
      ),
    );
    add(
      `runs ${J.config.clients}x${J.config.rate} tokens/s, half re-attaching: server CPU <= 1.3x plain @Flush()`,
      SERVERS['runs-runs'].label,
      J.cpuRatio,
      1.3,
      J.cpuRatio !== undefined && J.cpuRatio <= 1.3 && lost === 0,
      lost === 0 ? '' : `${lost} tokens lost or repeated in some run`,
    );
  }
  return list;
};

/** Median over runs of `metric` of server `a` / server `b`, each ratio taken within one run. */
const runRatio = (runsOut, a, b, metric) =>
  median((runsOut ?? []).map(r => ratio(r?.[a]?.[metric], r?.[b]?.[metric])));

/**
 * Tracker issue 12 (Nest's own @Sse() served by nestjs-flush's writer from the first byte): idle
 * hub streams from @Sse() cost <= 1.1x the same streams from @Flush() on each adapter and <= 1.3x
 * the floor on Fastify; fan-out 1000 x 20/s from hub + @Sse(): server CPU <= 1.1x the floor, p99
 * <= 1.2x the floor, 0 lost. `unit` tells the report how to print value and limit.
 */
export const issue12Targets = results => {
  const list = [];
  const add = (target, subject, value, limit, met, unit, note = '') =>
    list.push({ target, subject, value, limit, met, unit, note });
  const C = results.C;
  if (C?.summary) {
    const n = C.config?.clients;
    for (const [sse, flush, adapter] of [
      ['hub-sse', 'hub-flush', 'express'],
      ['hub-sse-fastify', 'hub-flush-fastify', 'fastify'],
    ]) {
      const v = runRatio(C.runs, sse, flush, 'rssPerConnection');
      const a = C.summary[sse]?.rssPerConnection;
      const b = C.summary[flush]?.rssPerConnection;
      add(
        `idle ${n} hub streams, RSS per connection: @Sse() <= 1.1x @Flush() (${adapter})`,
        `${SERVERS[sse].label} / ${SERVERS[flush].label}`,
        v,
        1.1,
        v !== undefined && v <= 1.1,
        'x',
        a !== undefined && b !== undefined ? `${kb(a)} vs ${kb(b)} (medians)` : '',
      );
    }
    const floor = C.summary['hub-sse-fastify']?.['rssPerConnection/floor'];
    add(
      `idle ${n} hub streams, RSS per connection: @Sse() <= 1.3x the floor (fastify)`,
      SERVERS['hub-sse-fastify'].label,
      floor,
      1.3,
      floor !== undefined && floor <= 1.3,
      'x',
      C.summary.raw?.rssPerConnection !== undefined
        ? `${kb(C.summary['hub-sse-fastify']?.rssPerConnection)} vs ${kb(C.summary.raw.rssPerConnection)} (medians)`
        : '',
    );
  }
  const phase = results.B?.phases?.find(p => p.rate === 20) ?? results.B?.phases?.[0];
  if (phase?.summary) {
    for (const id of ['hub-sse', 'hub-sse-fastify']) {
      const s = phase.summary[id];
      if (!s) continue;
      const raw = phase.summary.raw ?? {};
      const where = `fan-out ${phase.clients}x${phase.rate}/s`;
      const cpu = s['cpuPercent/floor'];
      add(
        `${where}: server CPU <= 1.1x the floor`,
        SERVERS[id].label,
        cpu,
        1.1,
        cpu !== undefined && cpu <= 1.1,
        'x',
        `${fmt(s.cpuPercent, 1)} % vs ${fmt(raw.cpuPercent, 1)} % (medians)`,
      );
      const p99 = s['p99/floor'];
      add(
        `${where}: p99 <= 1.2x the floor`,
        SERVERS[id].label,
        p99,
        1.2,
        p99 !== undefined && p99 <= 1.2,
        'x',
        `${fmt(s.p99, 2)} ms vs ${fmt(raw.p99, 2)} ms (medians)`,
      );
      // Every run, not the median: one lost delivery in any run misses the target.
      const perRun = phase.runs.map(r => r[id]).filter(Boolean);
      const lost = perRun.some(r => r.error || typeof r.lost !== 'number')
        ? undefined
        : Math.max(...perRun.map(r => r.lost));
      const dropped = Math.max(0, ...perRun.map(r => r.closedByServer ?? 0));
      add(
        `${where}: 0 lost`,
        SERVERS[id].label,
        lost,
        0,
        lost === 0,
        'count',
        `most in one of ${perRun.length} run(s)${dropped ? `; ${dropped} streams dropped by the server` : ''}`,
      );
    }
  }
  return list;
};

// ---- formatting for the log ----------------------------------------------------------------
const fmt = (v, digits) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—');
const mb = v => (typeof v === 'number' ? `${(v / 1048576).toFixed(1)} MB` : '—');
const kb = v => (typeof v === 'number' ? `${(v / 1024).toFixed(1)} KB` : '—');
const pct = v => (typeof v === 'number' ? `${(v * 100).toFixed(2)} %` : '—');

// ---- main ----------------------------------------------------------------------------------
/** When dist/ was built, and whether src/ changed since (then dist/ may not be HEAD's code). */
const distInfo = () => {
  const built = statSync(path.join(ROOT, 'dist', 'index.js')).mtimeMs;
  const newer = dir =>
    readdirSync(dir, { withFileTypes: true }).some(e =>
      e.isDirectory()
        ? newer(path.join(dir, e.name))
        : statSync(path.join(dir, e.name)).mtimeMs > built,
    );
  return {
    distBuiltAt: new Date(built).toISOString(),
    srcChangedSinceBuild: newer(path.join(ROOT, 'src')),
  };
};

const machine = () => {
  const version = pkg => {
    try {
      return JSON.parse(readFileSync(path.join(ROOT, 'node_modules', pkg, 'package.json'), 'utf8'))
        .version;
    } catch {
      return undefined;
    }
  };
  const git = (...a) => spawnSync('git', a, { cwd: ROOT, encoding: 'utf8' }).stdout?.trim();
  const cpuModel = (readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m) ??
    [])[1];
  return {
    date: new Date().toISOString(),
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
    nproc:
      Number(spawnSync('nproc', { encoding: 'utf8' }).stdout?.trim()) ||
      os.availableParallelism?.() ||
      os.cpus().length,
    cpuModel,
    memoryGB: Math.round(os.totalmem() / 1024 ** 3),
    node: process.version,
    taskset: HAS_TASKSET,
    loadAverageAtStart: os.loadavg().map(x => Number(x.toFixed(2))),
    commit: git('rev-parse', '--short', 'HEAD'),
    dirty: Boolean(git('status', '--porcelain', '--', 'src')),
    ...distInfo(),
    packages: Object.fromEntries(
      [
        'nestjs-flush',
        '@nestjs/core',
        '@nestjs/common',
        '@nestjs/platform-express',
        '@nestjs/platform-fastify',
        'express',
        'fastify',
        'better-sse',
        'rxjs',
        'autocannon',
      ].map(p => [
        p,
        p === 'nestjs-flush'
          ? JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version
          : version(p),
      ]),
    ),
  };
};

const main = async () => {
  if (args['report-only']) {
    // Re-renders RESULTS.md from the last run's latest.json (e.g. after a change to report.mjs).
    const report = JSON.parse(readFileSync(path.join(RESULTS_DIR, 'latest.json'), 'utf8'));
    report.issue12 = issue12Targets(report.results);
    const file = path.join(BENCH, 'RESULTS.md');
    writeFileSync(file, withBlocksOf(file, renderMarkdown(report)));
    log('wrote bench/RESULTS.md from bench/results/latest.json');
    return;
  }
  ensureBuilt();
  mkdirSync(RESULTS_DIR, { recursive: true });
  const meta = {
    ...machine(),
    quick,
    runs,
    only,
    maxForeignCpuPercent: MAX_FOREIGN,
    maxCoreSlowdownPercent: MAX_SLOWDOWN,
    coreProbeBaselineMs: calibrateCore(),
    retries: RETRIES,
    ...(args.note ? { note: String(args.note) } : {}),
  };
  log(
    `nestjs-flush bench: ${quick ? 'quick' : 'full'}, ${runs} run(s), scenarios ${only.join(',')}; ${meta.nproc} cores, node ${meta.node}${HAS_TASKSET ? '' : ' (no taskset: not pinned)'}`,
  );
  const results = {};
  const scenarios = {
    A: scenarioA,
    B: scenarioB,
    C: scenarioC,
    D: scenarioD,
    E: scenarioE,
    F: scenarioF,
    G: scenarioG,
    H: scenarioH,
    I: scenarioI,
    J: scenarioJ,
  };
  const watchdog = setTimeout(() => {
    log(
      `whole-run limit of ${TOTAL_LIMIT_MS / 1000}s reached: killing children, writing what was measured`,
    );
    killAll();
  }, TOTAL_LIMIT_MS + 120_000);
  watchdog.unref();
  for (const key of Object.keys(scenarios)) {
    if (!only.includes(key)) continue;
    log(`[${elapsed()}] scenario ${key}`);
    try {
      results[key] = await scenarios[key]();
    } catch (err) {
      results[key] = { error: String(err.stack ?? err) };
    }
    if (results[key]?.skipped) log(`scenario ${key} skipped: ${results[key].skipped}`);
  }
  meta.durationSeconds = Math.round((Date.now() - started) / 1000);
  meta.loadAverageAtEnd = os.loadavg().map(x => Number(x.toFixed(2)));
  const report = {
    meta,
    config: CONFIG,
    servers: SERVERS,
    results,
    targets: targets(results),
    issue12: issue12Targets(results),
  };
  const json = `${JSON.stringify(report, null, 2)}\n`;
  writeFileSync(path.join(RESULTS_DIR, 'latest.json'), json);
  writeFileSync(path.join(RESULTS_DIR, `${meta.date.replace(/[:.]/g, '-')}.json`), json);
  const markdown = renderMarkdown(report);
  if (!args['no-md']) {
    const file = path.join(BENCH, 'RESULTS.md');
    writeFileSync(file, withBlocksOf(file, markdown));
  }
  process.stdout.write(markdown);
  log(
    `\nwrote bench/results/latest.json${args['no-md'] ? '' : ' and bench/RESULTS.md'} in ${meta.durationSeconds}s`,
  );
};

/**
 * K and L are scripts of their own (bench/scale.mjs, bench/rolling-deploy.mjs: many processes,
 * minutes each, L needs Redis): `--only=K,L` runs them after the other scenarios asked for; each
 * writes its own section of RESULTS.md. Not part of the default run.
 */
const SCRIPTS = { K: 'scale.mjs', L: 'rolling-deploy.mjs' };
const runScripts = () => {
  let failed = false;
  for (const [key, script] of Object.entries(SCRIPTS)) {
    if (!only.includes(key)) continue;
    log(`scenario ${key}: node bench/${script}`);
    const passed = process.argv.slice(2).filter(a => !a.startsWith('--only'));
    const out = spawnSync(process.execPath, [path.join(BENCH, script), ...passed], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (out.status !== 0) failed = true;
  }
  return failed;
};

if (only.some(key => !SCRIPTS[key])) await main();
else ensureBuilt();
killAll();
if (runScripts()) process.exitCode = 1;
