#!/usr/bin/env node
// Scenario L (issue 22): a rolling deploy. `REDIS_URL=redis://127.0.0.1:6379 node
// bench/rolling-deploy.mjs` (or `node bench/run.mjs --only=L`):
//   - 3 instances of a small Nest app (bench/servers/deploy-app.mjs, from dist/) on one Redis,
//     and a 4th that only publishes (50 events/s on one channel, for the whole deploy);
//   - 3000 clients (client processes, bench/clients/deploy-client.mjs) spread over the three;
//   - each instance in turn is stopped with SIGTERM (its streams end with a jittered `retry:`
//     hint), started again on the same port, then the next one after --gapMs;
//   - clients reconnect to any instance with Last-Event-ID.
// Reports events lost without a resync (goal 0), duplicates (goal 0), out-of-order events, and
// the reconnect time (end of a stream to the headers of the next one, `retry:` wait included)
// p50/p99/max.
// Options: --instances=3 --clients=3000 --clientProcs=3 --rate=50 --gapMs=3000
//   --historySize=N           the channel's history in Redis (default: the library's, 1000 events)
//   --cluster=host:port,...   Redis Cluster (RedisFlushTransport({ cluster })) instead of REDIS_URL
//   --no-md                   leave RESULTS.md alone (figures on stdout and results/rolling-deploy.json)
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeBlock } from './lib/blocks.mjs';
import { parseArgs } from './lib/common.mjs';
import { killAll, spawnNode, stop, waitForLine } from './lib/proc.mjs';
import { percentile, sleep } from './clients/streams.mjs';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(BENCH);
const args = parseArgs();
const log = (...parts) => process.stderr.write(`${parts.join(' ')}\n`);
process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(130));

const instances = Number(args.instances ?? 3);
const clientCount = Number(args.clients ?? 3000);
const clientProcs = Number(args.clientProcs ?? 3);
const rate = Number(args.rate ?? 50);
const gapMs = Number(args.gapMs ?? 3000);
const cluster = args.cluster ? String(args.cluster) : undefined;
if (!cluster && !process.env.REDIS_URL) {
  log('rolling deploy: set REDIS_URL (single node) or pass --cluster=host:port,...');
  process.exit(2);
}
const prefix = `bench-deploy-${process.pid}-${Date.now()}:`;
const serverArgs = [
  ...(cluster ? [`--cluster=${cluster}`] : []),
  ...(args.historySize ? [`--historySize=${args.historySize}`] : []),
];
const env = { BENCH_REDIS_PREFIX: prefix };

const freePort = () =>
  new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });

const startInstance = async (port, core = 0) => {
  const child = spawnNode(
    core,
    [],
    path.join(BENCH, 'servers/deploy-app.mjs'),
    [`--port=${port}`, ...serverArgs],
    { cwd: ROOT, env },
  );
  try {
    const ready = await waitForLine(child, v => v.ready === true, 300_000, `instance :${port}`);
    return { child, port: ready.port, pid: ready.pid };
  } catch (err) {
    await stop(child);
    throw err;
  }
};

const getJson = async url => (await fetch(url)).json();
const ask = async (clients, cmd, test) =>
  Promise.all(
    clients.map(c => {
      const answer = waitForLine(c, test, 120_000, `client ${cmd}`);
      c.stdin.write(`${cmd}\n`);
      return answer;
    }),
  );

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
  redis: cluster ? `cluster ${cluster}` : 'single node (REDIS_URL)',
  loadStart: load(),
};
log(`rolling deploy: ${instances} instances, ${clientCount} clients, ${rate}/s; ${meta.redis}`);

const ports = await Promise.all(Array.from({ length: instances }, freePort));
const pool = [];
for (const port of ports) pool.push(await startInstance(port));
const publisher = await startInstance(0);
const clients = Array.from({ length: clientProcs }, (_, k) => {
  const addrs = Array.from({ length: 4 }, (_, i) => `127.0.0.${2 + ((k * 4 + i) % 8)}`);
  return spawnNode(1, [], path.join(BENCH, 'clients/deploy-client.mjs'), [
    `--ports=${ports.join(',')}`,
    `--clients=${Math.ceil(clientCount / clientProcs)}`,
    `--localAddresses=${addrs.join(',')}`,
  ]);
});
const result = { meta, rolls: [] };
try {
  await Promise.all(clients.map(c => waitForLine(c, v => v.started, 300_000, 'clients')));
  const total = Math.ceil(clientCount / clientProcs) * clientProcs;
  for (const deadline = Date.now() + 600_000; ;) {
    const counts = await Promise.all(pool.map(p => getJson(`http://127.0.0.1:${p.port}/count`)));
    const open = counts.reduce((s, c) => s + c.subscribers, 0);
    if (open >= total) break;
    if (Date.now() > deadline) throw new Error(`only ${open} of ${total} clients connected`);
    await sleep(200);
  }
  log(`[${((Date.now() - started) / 1000).toFixed(0)}s] ${total} clients connected`);
  // Publishing covers the whole deploy: a lead-in, each roll, and a tail.
  const publishStarted = Date.now();
  await getJson(`http://127.0.0.1:${publisher.port}/start?rate=${rate}`);
  await sleep(3000);
  for (let k = 0; k < pool.length; k++) {
    const old = pool[k];
    const t0 = Date.now();
    const exited = new Promise(resolve => old.child.once('exit', resolve));
    process.kill(old.pid, 'SIGTERM');
    await exited;
    const downMs = Date.now() - t0;
    pool[k] = await startInstance(old.port);
    const roll = { port: old.port, shutdownMs: downMs, downtimeMs: Date.now() - t0 };
    result.rolls.push(roll);
    log(
      `[${((Date.now() - started) / 1000).toFixed(0)}s] instance :${old.port} rolled (${JSON.stringify(roll)})`,
    );
    await sleep(gapMs);
  }
  await sleep(3000);
  const pub = await getJson(`http://127.0.0.1:${publisher.port}/stop`);
  const durationS = Math.round((Date.now() - publishStarted) / 1000);
  await sleep(5000); // the last events reach every client
  const reports = await ask(clients, `report ${pub.published}`, v => v.report === true);
  const sum = key => reports.reduce((s, r) => s + r[key], 0);
  const reconnect = reports.flatMap(r => r.reconnectMs).sort((a, b) => a - b);
  Object.assign(result, {
    instances,
    clients: total,
    rate,
    durationSeconds: durationS,
    published: pub.published,
    publishFailed: pub.failed,
    expected: pub.published * total,
    received: sum('received'),
    duplicates: sum('duplicates'),
    lostWithoutResync: sum('lost'),
    coveredByResync: sum('resynced'),
    missingWhileAway: sum('missingWhileAway'),
    outOfOrder: sum('outOfOrder'),
    connectedAtEnd: sum('connectedNow'),
    pendingAtEnd: sum('pendingNow'),
    pendingOldestMs: Math.max(...reports.map(x => x.pendingOldestMs)),
    pendingPorts: reports.map(x => x.pendingPorts),
    ports: pool.map(p => p.port),
    refusedConnects: sum('refused'),
    httpErrors: sum('httpErrors'),
    reconnects: reconnect.length,
    reconnectP50: percentile(reconnect, 50),
    reconnectP99: percentile(reconnect, 99),
    reconnectMax: reconnect.at(-1),
  });
} catch (err) {
  result.error = String(err.message ?? err).slice(0, 800);
  log(`rolling deploy: ${result.error}`);
} finally {
  await Promise.all(clients.map(c => stop(c, 1000)));
  await Promise.all([...pool, publisher].map(p => stop(p.child, 3000)));
}
meta.loadEnd = load();
meta.durationSeconds = Math.round((Date.now() - started) / 1000);

const ms = v => (v === undefined ? '—' : `${Math.round(v).toLocaleString('en-US')} ms`);
const r = result;
const lines = [
  `### L. Rolling deploy (issue 22), Redis ${meta.redis}`,
  '',
  `${meta.date.slice(0, 16).replace('T', ' ')} UTC, node ${meta.node}, ${meta.cpus} cores (${meta.model}), load average ` +
    `${meta.loadStart} at the start and ${meta.loadEnd} at the end (other work shares the machine). ` +
    `\`node bench/rolling-deploy.mjs\` (${meta.durationSeconds} s): ${instances} instances (bench/servers/deploy-app.mjs, ` +
    `express, from dist/), ${r.clients ?? clientCount} clients in ${clientProcs} processes, ${rate} events/s published by a 4th instance; ` +
    `each instance stopped with SIGTERM and started again on its port, ${gapMs / 1000} s apart; clients wait the ` +
    `\`retry:\` hint, then reconnect to a random instance with Last-Event-ID.`,
  '',
];
if (r.error) lines.push(`**Error:** ${r.error}`);
else {
  lines.push(
    '| figure | value | goal |',
    '| --- | ---: | ---: |',
    `| events published | ${r.published.toLocaleString('en-US')} (${r.publishFailed} failed) | |`,
    `| events expected by the clients | ${r.expected.toLocaleString('en-US')} | |`,
    `| events lost without a resync | **${r.lostWithoutResync}** | 0 |`,
    `| duplicates | **${r.duplicates}** | 0 |`,
    `| events covered by a \`resync\` | ${r.coveredByResync.toLocaleString('en-US')} | |`,
    `| events after the last one of a client still waiting for its stream at the end (not lost yet: it resumes from there) | ${r.missingWhileAway.toLocaleString('en-US')} | |`,
    `| out of order | ${r.outOfOrder} | 0 |`,
    `| reconnects | ${r.reconnects.toLocaleString('en-US')} (${r.refusedConnects} refused connects retried at once, ${r.httpErrors} non-200 answers) | |`,
    `| reconnect time p50 / p99 / max (\`retry:\` wait included) | ${ms(r.reconnectP50)} / **${ms(r.reconnectP99)}** / ${ms(r.reconnectMax)} | |`,
    `| clients connected at the end | ${r.connectedAtEnd} of ${r.clients} (${r.pendingAtEnd} with a request unanswered, the oldest for ${ms(r.pendingOldestMs)}) | all |`,
    `| instance stop (SIGTERM to exit) | ${r.rolls.map(x => ms(x.shutdownMs)).join(', ')} | |`,
    `| instance down (SIGTERM to ready again) | ${r.rolls.map(x => ms(x.downtimeMs)).join(', ')} | |`,
  );
}
const markdown = lines.join('\n');
process.stdout.write(`${markdown}\n`);
mkdirSync(path.join(BENCH, 'results'), { recursive: true });
writeFileSync(
  path.join(BENCH, 'results', `rolling-deploy${cluster ? '-cluster' : ''}.json`),
  `${JSON.stringify(result, null, 2)}\n`,
);
if (!args['no-md']) writeBlock(path.join(BENCH, 'RESULTS.md'), cluster ? 'LC' : 'L', markdown);
process.exit(r.error ? 1 : 0);
