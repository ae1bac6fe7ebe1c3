// Shared by the bench servers and clients: the event every server sends, the clock, argv parsing.
import process from 'node:process';

/**
 * Milliseconds on the system-wide monotonic clock (CLOCK_MONOTONIC), with sub-microsecond
 * resolution. Comparable between processes on one machine, unlike performance.now().
 */
export const nowMs = () => {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
};

const PAD = 'x'.repeat(40);

/**
 * The event payload every server emits (about 100 bytes of JSON): `t` is the send time on the
 * monotonic clock, `i` the sequence number. `t` comes first so clients can read it cheaply.
 */
export const payload = i => ({ t: nowMs(), i, src: 'nestjs-flush-bench', pad: PAD });

/** The SSE frame of an event as the raw floor writes it (id + one data line). */
export const rawFrame = i => `id: ${i}\ndata: ${JSON.stringify(payload(i))}\n\n`;

export const SSE_HEADERS = Object.freeze({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
});

/** `--a=1 --b` → { a: '1', b: true } */
export const parseArgs = (argv = process.argv.slice(2)) => {
  const out = {};
  for (const arg of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (m) out[m[1]] = m[2] === undefined ? true : m[2];
  }
  return out;
};

/**
 * Publishes `rate` events per second for `duration` seconds, numbered from `base`: at each tick,
 * every event due by now (so the count is exact even when timers are late). Resolves when done.
 */
export const runTicker = (rate, duration, base, publish) =>
  new Promise(resolve => {
    const total = Math.round(rate * duration);
    const started = nowMs();
    let sent = 0;
    const tick = () => {
      const due = Math.min(total, Math.floor(((nowMs() - started) * rate) / 1000) + 1);
      while (sent < due) publish(base + sent++);
      if (sent >= total) {
        clearInterval(timer);
        resolve(total);
      }
    };
    const timer = setInterval(tick, Math.max(1, Math.floor(1000 / rate)));
    tick();
  });

/** Memory figures of this process, after a full GC when the process runs with --expose-gc. */
export const memory = (collect = false) => {
  if (collect && typeof globalThis.gc === 'function') {
    globalThis.gc();
    globalThis.gc();
  }
  const m = process.memoryUsage();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    gc: typeof globalThis.gc === 'function',
  };
};

/** Tells the parent the server listens (one JSON line on stdout). */
export const announce = (port, extra = {}) => {
  process.stdout.write(`${JSON.stringify({ ready: true, port, pid: process.pid, ...extra })}\n`);
};

/** Ends the process when the parent goes away (stdin closes), so no server outlives a bench. */
export const dieWithParent = () => {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
  process.on('SIGTERM', () => process.exit(0));
};
