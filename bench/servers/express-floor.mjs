// Reference only (not one of the compared servers): plain Express 5 writing SSE by hand, to show
// what Express itself costs per connection before any SSE library or NestJS runs.
import express from 'express';
import { announce, dieWithParent, memory, rawFrame, SSE_HEADERS } from '../lib/common.mjs';

dieWithParent();
const clients = new Set();
const app = express();
app.get('/sub', (req, res) => {
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
  clients.add(res);
  res.once('close', () => clients.delete(res));
});
app.get('/count', (req, res) => res.json({ subscribers: clients.size }));
app.get('/stats', (req, res) => res.json({ subscribers: clients.size }));
app.get('/gc', (req, res) => res.json(memory(true)));
app.get('/start', (req, res) => res.json({ ok: true, frame: rawFrame(0).length }));
const server = app.listen(0, '127.0.0.1', () =>
  announce(server.address().port, { server: 'express-floor' }),
);
