// Scenario L client: N EventSource-like clients spread over the instances' ports. A client whose
// stream ends (or fails) waits the server's `retry:` hint (1 s without one), then reconnects to an
// instance picked at random, with Last-Event-ID; a refused connection tries another at once.
// Records every bench event's sequence `i`, `resync` events, and the time from the end of a
// stream to the headers of the next one. On a "report <total>" line on stdin, prints one JSON
// line: duplicates, out-of-order, events missing with and without a resync covering them,
// reconnect durations. Exits when stdin closes.
import http from 'node:http';
import { parseArgs } from '../lib/common.mjs';

const args = parseArgs();
const ports = String(args.ports).split(',').map(Number);
const n = Number(args.clients);
const addresses = args.localAddresses ? String(args.localAddresses).split(',') : ['127.0.0.1'];
const now = () => performance.now();
const reconnectMs = [];
let connectedOnce = 0;
let refused = 0;
let httpErrors = 0;

const clients = Array.from({ length: n }, (_, index) => ({
  index,
  lastId: undefined,
  retry: 1000,
  seen: new Map(), // i -> times seen
  order: [], // i in arrival order
  covered: [], // [from, to] ranges a resync covers (exclusive of what was seen)
  pendingResync: false,
  lastI: -1,
  outOfOrder: 0,
  endedAt: undefined,
  req: undefined,
  connected: false,
}));

const onEvent = (c, { id, event, data }) => {
  if (id !== undefined) c.lastId = id;
  if (event === 'resync') {
    c.pendingResync = true;
    return;
  }
  if (!data?.startsWith('{"t":')) return;
  const i = JSON.parse(data).i;
  const times = c.seen.get(i) ?? 0;
  c.seen.set(i, times + 1);
  if (times > 0) return;
  if (i < c.lastI) c.outOfOrder++;
  // Events between the last one seen and this one were announced missing by the resync.
  if (c.pendingResync) {
    if (i > c.lastI + 1) c.covered.push([c.lastI + 1, i - 1]);
    c.pendingResync = false;
  }
  if (i > c.lastI) c.lastI = i;
};

const connect = c => {
  const port = ports[Math.floor(Math.random() * ports.length)];
  const headers = c.lastId !== undefined ? { 'last-event-id': c.lastId } : {};
  const req = http.get({
    host: '127.0.0.1',
    port,
    path: '/sub',
    headers,
    agent: false,
    localAddress: addresses[c.index % addresses.length],
  });
  c.req = req;
  c.pendingSince = now();
  c.pendingPort = port;
  let done = false;
  const ended = () => {
    if (done) return;
    done = true;
    c.connected = false;
    c.pendingSince = undefined;
    c.endedAt ??= now();
    if (stopping) return;
    setTimeout(() => connect(c), c.retry);
  };
  req.on('response', res => {
    if (res.statusCode !== 200) {
      httpErrors++;
      res.resume();
      res.on('end', ended);
      res.on('error', ended);
      return;
    }
    c.connected = true;
    c.pendingSince = undefined;
    if (c.endedAt !== undefined) reconnectMs.push(now() - c.endedAt);
    else connectedOnce++;
    c.endedAt = undefined;
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', chunk => {
      buf += chunk;
      let k;
      while ((k = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, k);
        buf = buf.slice(k + 2);
        const ev = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(':');
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id') ev.id = value;
          else if (field === 'event') ev.event = value;
          else if (field === 'data')
            ev.data = ev.data === undefined ? value : `${ev.data}\n${value}`;
          else if (field === 'retry' && /^\d+$/.test(value)) c.retry = Number(value);
        }
        onEvent(c, ev);
      }
    });
    res.on('end', ended);
    res.on('close', ended);
    res.on('error', ended);
  });
  req.on('error', err => {
    if (done) return;
    // An instance that is down: try another at once (a load balancer would).
    if (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET') {
      refused++;
      done = true;
      c.endedAt ??= now();
      if (!stopping) setTimeout(() => connect(c), 50);
      return;
    }
    ended();
  });
};

let stopping = false;
// Opened a few at a time, so the instances are not flooded at the start.
for (let k = 0; k < n; k++) {
  connect(clients[k]);
  if (k % 100 === 99) await new Promise(resolve => setTimeout(resolve, 20));
}
process.stdout.write(`${JSON.stringify({ started: n })}\n`);

let input = '';
process.stdin.on('data', d => {
  input += d;
  let nl;
  while ((nl = input.indexOf('\n')) >= 0) {
    const [cmd, arg] = input.slice(0, nl).trim().split(' ');
    input = input.slice(nl + 1);
    if (cmd === 'connected') {
      process.stdout.write(
        `${JSON.stringify({ connected: clients.filter(c => c.connected).length })}\n`,
      );
    }
    if (cmd === 'report') {
      const total = Number(arg);
      let duplicates = 0;
      let lost = 0;
      let resynced = 0;
      let outOfOrder = 0;
      let received = 0;
      let missingWhileAway = 0;
      for (const c of clients) {
        outOfOrder += c.outOfOrder;
        // A client still waiting for its stream has not had its chance to resume yet: what it
        // misses after its last event is counted apart, not as lost.
        const away = !c.connected;
        for (const times of c.seen.values()) {
          received += times;
          duplicates += times - 1;
        }
        for (let i = 0; i < total; i++) {
          if (c.seen.has(i)) continue;
          if (c.covered.some(([a, b]) => i >= a && i <= b)) resynced++;
          // A resync with no event after it yet (publishing stopped): it covers what follows.
          else if (c.pendingResync && i > c.lastI) resynced++;
          else if (away && i > c.lastI) missingWhileAway++;
          else lost++;
        }
      }
      process.stdout.write(
        `${JSON.stringify({
          report: true,
          clients: n,
          received,
          duplicates,
          lost,
          resynced,
          missingWhileAway,
          outOfOrder,
          connectedNow: clients.filter(c => c.connected).length,
          // Requests sent and not answered yet (no headers), and how long they have waited.
          pendingNow: clients.filter(c => !c.connected && c.pendingSince !== undefined).length,
          pendingOldestMs: Math.max(
            0,
            ...clients
              .filter(c => !c.connected && c.pendingSince !== undefined)
              .map(c => now() - c.pendingSince),
          ),
          pendingPorts: clients
            .filter(c => !c.connected && c.pendingSince !== undefined)
            .reduce((m, c) => ({ ...m, [c.pendingPort]: (m[c.pendingPort] ?? 0) + 1 }), {}),
          refused,
          httpErrors,
          reconnectMs,
        })}\n`,
      );
    }
  }
});
process.stdin.on('end', () => {
  stopping = true;
  for (const c of clients) c.req?.destroy();
  process.exit(0);
});
