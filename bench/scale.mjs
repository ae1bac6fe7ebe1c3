#!/usr/bin/env node
// Scenario K (issue 22): 20k streams in one process. `node bench/scale.mjs` (or
// `node bench/run.mjs --only=K`) measures, side by side in one run:
//   1. idle RSS (and heap) per connection at 5k and at 20k streams in the same server process,
//      for the node:http floor and FlushHub + @Sse() (express, fastify): the 20k figure should be
//      within 10 % of the 5k one;
//   2. the heartbeat CPU of the 20k idle hub streams (default 15 s interval), % of one core from
//      /proc (utime + stime) over --heartbeatSeconds (default 46: three heartbeat rounds);
//   3. a fan-out of 10k clients x 5 events/s (--fanoutClients, --fanoutRate, --fanoutSeconds):
//      publish->receive p50/p99, lost, server CPU, hub + @Sse() express against the floor.
// Clients are their own processes (5k streams each) on the other core, from the loopback
// addresses 127.0.0.2-127.0.0.9 (ports do not run out); every process gets the open-files limit
// raised as far as the machine allows (`ulimit -n`, at most `ulimit -Hn`). When the hard limit
// is below 20k + a few, the server holds as many streams as it allows, and the report says so.
// Options: --streams=N (20000) --small=N (5000) --servers=raw,hub-sse,hub-sse-fastify
//   --idle=0 (skip 1 and 2) --fanout=0 (skip 3) --heartbeat=0 (skip 2) --no-md (leave RESULTS.md alone)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBlock } from './lib/blocks.mjs';
import { parseArgs } from './lib/common.mjs';
import { cpuSeconds, killAll, spawnNode, statusBytes, stop, waitForLine } from './lib/proc.mjs';
import { getJson, sleep, waitForCount } from './clients/streams.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const args = parseArgs();
const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const hardLimit = Number(spawnSync('bash', ['-c', 'ulimit -Hn'], { encoding: 'utf8' }).stdout);
const wanted = Number(args.streams ?? 20_000);
// The server also holds its listening socket, stdio, epoll and a few files.
const streams = Math.min(wanted, Number.isFinite(hardLimit) ? hardLimit - 100 : wanted);
const small = Number(args.small ?? 5000);
const PER_CLIENT = 5000;
const ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
const serverIds =
  args.idle === '0' ? [] : String(args.servers ?? 'raw,hub-sse,hub-sse-fastify').split(',');
const heartbeatSeconds = Number(args.heartbeatSeconds ?? 46);
const fanout = {
  clients: Number(args.fanoutClients ?? 10_000),
  rate: Number(args.fanoutRate ?? 5),
  seconds: Number(args.fanoutSeconds ?? 10),
};

const SERVERS = {
  raw: { label: 'node:http floor', script: 'servers/raw.mjs', args: [] },
  'raw-heartbeat': {
    label: 'node:http floor writing a `:` comment to every stream each 15 s',
    script: 'servers/raw.mjs',
    args: ['--heartbeatMs=15000'],
  },
  'hub-sse': {
    label: 'FlushHub + @Sse() express',
    script: 'servers/nest-app.mjs',
    args: ['--kind=hub-sse', '--adapter=express'],
  },
  'hub-sse-fastify': {
    label: 'FlushHub + @Sse() fastify',
    script: 'servers/nest-app.mjs',
    args: ['--kind=hub-sse', '--adapter=fastify'],
  },
  'hub-flush': {
    label: 'FlushHub + @Flush() express',
    script: 'servers/nest-app.mjs',
    args: ['--kind=hub-flush', '--adapter=express'],
  },
};

const startServer = async id => {
  const s = SERVERS[id];
  const child = spawnNode(0, ['--expose-gc'], path.join(BENCH, s.script), s.args, { cwd: ROOT });
  try {
    const ready = await waitForLine(child, v => v.ready === true, 120_000, `server ${id}`);
    return { child, pid: ready.pid, url: `http://127.0.0.1:${ready.port}` };
  } catch (err) {
    await stop(child);
    throw err;
  }
};

/** Client processes holding `n` streams in all (PER_CLIENT each), addresses rotated per process. */
const hold = async (url, n, offset) => {
  const clients = [];
  for (let k = 0; k * PER_CLIENT < n; k++) {
    const count = Math.min(PER_CLIENT, n - k * PER_CLIENT);
    const addrs = ADDRESSES.slice((offset + k) % 4, ((offset + k) % 4) + 4);
    const child = spawnNode(1, [], path.join(BENCH, 'clients/hold.mjs'), [
      `--url=${url}`,
      `--clients=${count}`,
      `--localAddresses=${addrs.join(',')}`,
    ]);
    clients.push(child);
  }
  let opened;
  try {
    opened = await Promise.all(
      clients.map(c => waitForLine(c, v => v.opened !== undefined, 900_000, 'hold client')),
    );
  } catch (err) {
    await Promise.all(clients.map(c => stop(c, 500)));
    throw err;
  }
  // Connections refused (a full accept queue on a loaded machine) are counted, not retried.
  clients.failed = opened.reduce((sum, o) => sum + o.failed, 0);
  return clients;
};
const report = async clients => {
  const answers = await Promise.all(
    clients.map(c => {
      const answer = waitForLine(c, v => v.report === true, 10_000, 'hold report');
      c.stdin.write('report\n');
      return answer;
    }),
  );
  return answers.reduce(
    (sum, a) => ({
      chunks: sum.chunks + a.chunks,
      heartbeats: sum.heartbeats + a.heartbeats,
      failed: sum.failed + a.failed,
      closedByServer: sum.closedByServer + a.closedByServer,
    }),
    { chunks: 0, heartbeats: 0, failed: 0, closedByServer: 0 },
  );
};

/** RSS and heap of the server after a full GC. */
const settle = async (srv, pid) => {
  const gc = await getJson(`${srv.url}/gc`, 30_000);
  await sleep(500);
  return { rss: statusBytes(pid, 'VmRSS'), heapUsed: gc.heapUsed };
};

const idle = async id => {
  const srv = await startServer(id);
  const all = [];
  try {
    // Warm-up: the route's first connections compile and allocate what every later one shares.
    const warm = await hold(srv.url, 200, 0);
    await waitForCount(srv.url, c => c >= 200, 60_000);
    await Promise.all(warm.map(c => stop(c, 500)));
    await waitForCount(srv.url, c => c === 0, 60_000);
    const m0 = await settle(srv, srv.pid);
    const first = await hold(srv.url, small, 0);
    all.push(...first);
    const smallOpen = small - first.failed;
    await waitForCount(srv.url, c => c >= smallOpen, 900_000);
    await sleep(1000);
    const m1 = await settle(srv, srv.pid);
    const t0 = Date.now();
    const rest = await hold(srv.url, streams - small, 1);
    all.push(...rest);
    const open = streams - first.failed - rest.failed;
    await waitForCount(srv.url, c => c >= open, 900_000);
    const openSeconds = (Date.now() - t0) / 1000;
    await sleep(1000);
    const m2 = await settle(srv, srv.pid);
    const out = {
      streams: open,
      small: smallOpen,
      refused: first.failed + rest.failed,
      openSeconds,
      rssPerConnectionSmall: (m1.rss - m0.rss) / smallOpen,
      rssPerConnection: (m2.rss - m0.rss) / open,
      heapPerConnectionSmall: (m1.heapUsed - m0.heapUsed) / smallOpen,
      heapPerConnection: (m2.heapUsed - m0.heapUsed) / open,
    };
    out.growth = out.rssPerConnection / out.rssPerConnectionSmall - 1;
    if (args.heartbeat !== '0' && id !== 'raw') {
      // (raw-heartbeat: the floor of the same heartbeats)
      // Idle streams only: the heartbeat timer is all that runs.
      const before = await report(all);
      const c0 = cpuSeconds(srv.pid);
      const w0 = Date.now();
      await sleep(heartbeatSeconds * 1000);
      const c1 = cpuSeconds(srv.pid);
      const wall = (Date.now() - w0) / 1000;
      const after = await report(all);
      out.heartbeat = {
        seconds: wall,
        cpuPercent: ((c1 - c0) / wall) * 100,
        heartbeatsReceived: after.heartbeats - before.heartbeats,
        perStream: (after.heartbeats - before.heartbeats) / open,
        closedByServer: after.closedByServer,
        failed: after.failed,
      };
    }
    return out;
  } finally {
    await Promise.all(all.map(c => stop(c, 1000)));
    await stop(srv.child);
  }
};

const fanoutRun = async id => {
  const srv = await startServer(id);
  try {
    const child = spawnNode(1, [], path.join(BENCH, 'clients/fanout.mjs'), [
      `--url=${srv.url}`,
      `--pid=${srv.pid}`,
      `--clients=${fanout.clients}`,
      `--phases=${fanout.rate}x${fanout.seconds}`,
      `--localAddresses=${ADDRESSES.join(',')}`,
      '--concurrency=200',
      '--openTimeoutMs=180000',
    ]);
    try {
      const result = await waitForLine(child, v => Array.isArray(v.phases), 400_000, 'fan-out');
      return { ...result.phases[0], connectFailures: result.connectFailures };
    } finally {
      await stop(child, 1000);
    }
  } finally {
    await stop(srv.child);
  }
};

const kb = b => (b === undefined ? '—' : `${(b / 1024).toFixed(1)} KB`);
const x = v => (v === undefined || !Number.isFinite(v) ? '—' : `${v.toFixed(2)}×`);
const ms = v => (v === undefined ? '—' : `${v.toFixed(1)} ms`);

const started = Date.now();
const load = () =>
  os
    .loadavg()
    .map(v => v.toFixed(2))
    .join(', ');
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  model: os.cpus()[0]?.model,
  memGB: Math.round(os.totalmem() / 2 ** 30),
  openFilesHardLimit: hardLimit,
  loadStart: load(),
};
log(
  `scenario K: ${streams} streams (asked ${wanted}; ulimit -Hn ${hardLimit}), load ${meta.loadStart}`,
);
const results = { meta, idle: {}, fanout: {} };
for (const id of serverIds) {
  try {
    results.idle[id] = await idle(id);
    const r = results.idle[id];
    log(
      `[${((Date.now() - started) / 1000).toFixed(0)}s] K idle ${id}: ${kb(r.rssPerConnectionSmall)} at ${small}, ${kb(r.rssPerConnection)} at ${streams}` +
        (r.heartbeat ? `; heartbeat ${r.heartbeat.cpuPercent.toFixed(2)} % of a core` : ''),
    );
  } catch (err) {
    results.idle[id] = { error: String(err.message ?? err).slice(0, 600) };
    log(`K idle ${id}: ${results.idle[id].error}`);
  }
}
if (args.fanout !== '0') {
  for (const id of ['raw', 'hub-sse']) {
    try {
      results.fanout[id] = await fanoutRun(id);
      const r = results.fanout[id];
      log(`K fan-out ${id}: p99 ${ms(r.p99)}, lost ${r.lost}, CPU ${r.cpuPercent?.toFixed(1)} %`);
    } catch (err) {
      results.fanout[id] = { error: String(err.message ?? err).slice(0, 600) };
      log(`K fan-out ${id}: ${results.fanout[id].error}`);
    }
  }
}
meta.loadEnd = load();
meta.durationSeconds = Math.round((Date.now() - started) / 1000);

// ---- report --------------------------------------------------------------------------------
const floor = results.idle.raw;
const lines = [
  `### K. ${streams.toLocaleString('en-US')} streams in one process (issue 22)`,
  '',
  `${meta.date.slice(0, 16).replace('T', ' ')} UTC, node ${meta.node}, ${meta.cpus} cores (${meta.model}), ` +
    `load average ${meta.loadStart} at the start and ${meta.loadEnd} at the end (other work shares the machine). ` +
    `\`node bench/scale.mjs\` (${meta.durationSeconds} s). Clients in their own processes (${PER_CLIENT} streams each), ` +
    `from 127.0.0.2–127.0.0.9.` +
    (streams < wanted
      ? ` The open-files hard limit of this machine is ${hardLimit} per process (\`ulimit -Hn\`, not raisable here), so the server holds ${streams} streams, not ${wanted}.`
      : ''),
  '',
  `| server | RSS per connection at ${small} | at ${streams} | growth | × floor (at ${streams}) | heap per connection at ${streams} | open ${streams} |`,
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
];
for (const id of serverIds) {
  const r = results.idle[id];
  if (r.error) {
    lines.push(`| ${SERVERS[id].label} | error: ${r.error.slice(0, 120)} | | | | | |`);
    continue;
  }
  lines.push(
    `| ${SERVERS[id].label}${r.refused ? ` (${r.streams} open, ${r.refused} connects refused)` : ''} | ${kb(r.rssPerConnectionSmall)} | ${kb(r.rssPerConnection)} | ${(r.growth * 100).toFixed(1)} % | ` +
      `${x(floor && !floor.error ? r.rssPerConnection / floor.rssPerConnection : undefined)} | ${kb(r.heapPerConnection)} | ${r.openSeconds.toFixed(0)} s |`,
  );
}
const beats = serverIds.map(id => [id, results.idle[id]?.heartbeat]).filter(([, h]) => h);
if (beats.length) {
  lines.push(
    '',
    `Heartbeat CPU of ${streams} idle streams (15 s interval, one shared timer), over ${heartbeatSeconds} s, utime + stime of the server from /proc:`,
    '',
    '| server | CPU, % of one core | heartbeats received (per stream) | streams closed by the server |',
    '| --- | ---: | ---: | ---: |',
    ...beats.map(
      ([id, h]) =>
        `| ${SERVERS[id].label} | ${h.cpuPercent.toFixed(2)} % | ${h.heartbeatsReceived} (${h.perStream.toFixed(2)}) | ${h.closedByServer} |`,
    ),
  );
}
const fr = results.fanout;
if (fr.raw || fr['hub-sse']) {
  lines.push(
    '',
    `Fan-out ${fanout.clients.toLocaleString('en-US')} clients × ${fanout.rate} events/s for ${fanout.seconds} s (one client process; server CPU from /proc):`,
    '',
    '| server | delivered | lost | p50 | p99 | server CPU | × floor CPU | × floor p99 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const id of ['raw', 'hub-sse']) {
    const r = fr[id];
    if (!r) continue;
    if (r.error) {
      lines.push(`| ${SERVERS[id].label} | error: ${r.error.slice(0, 120)} | | | | | | |`);
      continue;
    }
    const base = fr.raw && !fr.raw.error ? fr.raw : undefined;
    lines.push(
      `| ${SERVERS[id].label} | ${r.delivered.toLocaleString('en-US')} | ${r.lost} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.cpuPercent.toFixed(1)} % | ` +
        `${x(base ? r.cpuPercent / base.cpuPercent : undefined)} | ${x(base ? r.p99 / base.p99 : undefined)} |`,
    );
  }
}
const markdown = lines.join('\n');
process.stdout.write(`${markdown}\n`);
mkdirSync(path.join(BENCH, 'results'), { recursive: true });
writeFileSync(path.join(BENCH, 'results', 'scale.json'), `${JSON.stringify(results, null, 2)}\n`);
if (!args['no-md']) writeBlock(path.join(BENCH, 'RESULTS.md'), 'K', markdown);
