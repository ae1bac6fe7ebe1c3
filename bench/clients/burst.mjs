// Scenario A client: one connection reads N events as fast as the server sends them.
// A warm-up burst (--warmup events, on its own connection) runs first, so every server is measured
// with its hot paths compiled.
import http from 'node:http';
import { nowMs, parseArgs } from '../lib/common.mjs';
import { cpuSeconds } from '../lib/proc.mjs';
import { createCounter } from './sse-scan.mjs';

const args = parseArgs();
const n = Number(args.n);
const warmup = Number(args.warmup ?? 0);
const timeoutMs = Number(args.timeoutMs ?? 60000);

const burst = n =>
  new Promise(resolve => {
    const started = nowMs();
    let firstEvent;
    let lastEvent;
    let bytes = 0;
    const counter = createCounter();
    const finish = error => {
      clearTimeout(timer);
      const end = lastEvent ?? nowMs();
      resolve({
        ...(error && { error }),
        events: counter.count,
        bytes,
        ms: end - started,
        firstEventMs: firstEvent === undefined ? undefined : firstEvent - started,
        // Request sent to last event: connection setup and routing are part of the cost.
        eventsPerSec: (counter.count / (end - started)) * 1000,
      });
    };
    const timer = setTimeout(() => {
      req.destroy();
      finish(`timeout after ${timeoutMs} ms`);
    }, timeoutMs);
    const req = http.get(`${args.url}/burst?n=${n}`, { agent: false }, res => {
      res.on('data', chunk => {
        bytes += chunk.length;
        const before = counter.count;
        counter.feed(chunk);
        if (counter.count !== before) {
          lastEvent = nowMs();
          firstEvent ??= lastEvent;
        }
        if (counter.count >= n) {
          res.destroy();
          finish();
        }
      });
      res.on('end', () =>
        finish(
          counter.count >= n ? undefined : `stream ended after ${counter.count} of ${n} events`,
        ),
      );
      res.on('error', () => undefined);
    });
    req.on('error', err => finish(err.message));
  });

const pid = Number(args.pid);
if (warmup > 0) await burst(warmup);
const cpu0 = cpuSeconds(pid);
const result = await burst(n);
// Server CPU time per event: steadier than events/s when other work shares the machine.
result.cpuUsPerEvent = ((cpuSeconds(pid) - cpu0) / result.events) * 1e6;
process.stdout.write(`${JSON.stringify(result)}\n`);
