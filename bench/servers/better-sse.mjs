// (2) Express + better-sse: a Session per client for the burst, a Channel for the broadcast.
import { once } from 'node:events';
import express from 'express';
import { createChannel, createSession } from 'better-sse';
import { announce, dieWithParent, memory, nowMs, payload, runTicker } from '../lib/common.mjs';

dieWithParent();
const channel = createChannel();
const app = express();

app.get('/burst', async (req, res) => {
  const n = Number(req.query.n ?? 1000);
  const session = await createSession(req, res);
  if (!session.isConnected) await once(session, 'connected');
  // better-sse has no backpressure of its own: push while the response takes more, then wait.
  for (let i = 0; i < n && session.isConnected; i++) {
    session.push(payload(i), 'message', String(i));
    if (res.writableNeedDrain) {
      await Promise.race([once(res, 'drain'), once(res, 'close')]);
    }
  }
  res.end();
});

app.get('/sub', async (req, res) => {
  const session = await createSession(req, res);
  channel.register(session);
});

app.get('/count', (req, res) => res.json({ subscribers: channel.sessionCount }));
app.get('/stats', (req, res) => res.json({ subscribers: channel.sessionCount }));
app.get('/gc', (req, res) => res.json(memory(true)));
app.get('/start', (req, res) => {
  const rate = Number(req.query.rate);
  const duration = Number(req.query.duration);
  void runTicker(rate, duration, Number(req.query.base ?? 0), i =>
    channel.broadcast(payload(i), 'message', { eventId: String(i) }),
  );
  res.json({ ok: true, at: nowMs() });
});

const server = app.listen(0, '127.0.0.1', () =>
  announce(server.address().port, { server: 'better-sse' }),
);
