// (1) The floor: node:http with hand-written SSE that honours 'drain'.
import http from 'node:http';
import {
  announce,
  dieWithParent,
  memory,
  nowMs,
  payload,
  rawFrame,
  runTicker,
  SSE_HEADERS,
} from '../lib/common.mjs';

dieWithParent();
const subscribers = new Set();

const json = (res, body) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

const burst = (req, res, n) => {
  req.socket.setNoDelay(true);
  res.writeHead(200, SSE_HEADERS);
  let i = 0;
  let gone = false;
  res.on('close', () => (gone = true));
  const pump = () => {
    while (i < n && !gone) {
      if (!res.write(rawFrame(i++))) {
        res.once('drain', pump);
        return;
      }
    }
    if (!gone) res.end();
  };
  pump();
};

const subscribe = (req, res) => {
  req.socket.setNoDelay(true);
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
  subscribers.add(res);
  res.on('close', () => subscribers.delete(res));
};

// Encoded once, written to every subscriber.
// --heartbeatMs=N (K): a `:` comment to every stream each N ms, the floor of a heartbeat (one
// write per stream, no silence tracking).
const heartbeatMs = Number(process.argv.find(a => a.startsWith('--heartbeatMs='))?.split('=')[1]);
if (heartbeatMs > 0) {
  const beat = Buffer.from(':\n\n');
  setInterval(() => {
    for (const res of subscribers) res.write(beat);
  }, heartbeatMs).unref();
}

const broadcast = i => {
  const frame = Buffer.from(rawFrame(i));
  for (const res of subscribers) res.write(frame);
};

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const q = url.searchParams;
  switch (url.pathname) {
    case '/burst':
      return burst(req, res, Number(q.get('n') ?? 1000));
    case '/sub':
      return subscribe(req, res);
    case '/count':
      return json(res, { subscribers: subscribers.size });
    case '/start': {
      const rate = Number(q.get('rate'));
      const duration = Number(q.get('duration'));
      void runTicker(rate, duration, Number(q.get('base') ?? 0), broadcast);
      return json(res, { ok: true, at: nowMs() });
    }
    case '/gc':
      return json(res, memory(true));
    case '/stats':
      return json(res, { subscribers: subscribers.size });
    default:
      res.writeHead(404).end();
  }
});
server.listen(0, '127.0.0.1', () => announce(server.address().port, { server: 'raw' }));
void payload;
