// Runs that outlive their connection (issue 19), in memory, on both adapters: the producer starts
// once per key and runs to its end, its limits or cancel(); any client re-attaches (the whole run,
// or the rest after a Last-Event-ID), then live, then `end`; bad input gets a 4xx before any byte.
import { expect } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { FlushHub, FlushValidationError } from '../src/index.js';
import { runProbe, runsApp, tokenText } from './fixtures/runs/runs.controller.js';
import { rawRequest } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';
import { endOf, readRun, runText } from './utils/runs.js';
import { waitFor } from './utils/wait.js';

const key = () => `k-${randomUUID()}`;

describe.each(platforms)('runs in memory (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [runsApp({ maxRuns: 5, runTtlMs: 60_000 })]);
  });
  afterAll(() => app?.close());

  it('streams the run live to the client that started it, every event with its channel id, then end', async () => {
    const k = key();
    const res = await readRun(app, `/runs/${k}/start?n=10&ms=1`);
    expect(res.status).toBe(200);
    expect(runText(res.events)).toBe(tokenText(10));
    expect(res.events.at(-1)).toMatchObject({ event: 'end' });
    expect(endOf(res.events)).toEqual({ status: 'completed' });
    for (const event of res.events) expect(event.id).toMatch(/^\d+-\d+$/);
    expect(res.complete).toBe(true);
  });

  it('runs on after its client leaves; a re-attach gets the rest after Last-Event-ID exactly, or the whole run', async () => {
    const k = key();
    const first = await readRun(app, `/runs/${k}/start?n=30&ms=5`, { stopAfterEvents: 4 });
    expect(runText(first.events)).toBe(tokenText(4));
    const rest = await readRun(app, `/runs/${k}`, { lastEventId: first.events[3].id });
    expect(runText(first.events) + runText(rest.events)).toBe(tokenText(30));
    expect(endOf(rest.events)).toEqual({ status: 'completed' });
    const whole = await readRun(app, `/runs/${k}`);
    expect(runText(whole.events)).toBe(tokenText(30));
    // Ended: an EventSource resuming at the end event gets a bare 204 and stops.
    const atEnd = await rawRequest(app, `/runs/${k}`, {
      headers: { 'last-event-id': whole.events.at(-1)!.id! },
    });
    expect(atEnd.status).toBe(204);
    expect(atEnd.body).toBe('');
    // NDJSON routes attach too (same events, one per line).
    const ndjson = await rawRequest(app, `/runs/${k}/ndjson`);
    expect(ndjson.status).toBe(200);
    expect(ndjson.body.trim().split('\n')).toHaveLength(31);
  });

  it('takes Observable, ReadableStream and object producers', async () => {
    const objects = await readRun(app, `/runs/${key()}/objects`);
    expect(objects.events.slice(0, 3).map(e => e.data)).toEqual(['{"i":0}', '{"i":1}', '{"i":2}']);
    expect(endOf(objects.events)).toEqual({ status: 'completed' });
    const readable = await readRun(app, `/runs/${key()}/readable`);
    expect(runText(readable.events)).toBe('abc');
  });

  it('answers bad input with a 4xx before any byte: unknown key, malformed or foreign Last-Event-ID, oversized key, a second run', async () => {
    expect((await rawRequest(app, `/runs/${key()}`)).status).toBe(404);
    // Fastify refuses a path parameter over its maxParamLength (100) itself: 414 on the fastify
    // of NestJS 11.1+, 404 on that of 11.0; the hub says 400.
    expect([400, 404, 414]).toContain((await rawRequest(app, `/runs/${'x'.repeat(201)}`)).status);
    expect(() => app.get(FlushHub).attach('x'.repeat(201))).toThrow(FlushValidationError);
    expect(() =>
      app.get(FlushHub).run('x'.repeat(201), () => [][Symbol.iterator]() as never),
    ).toThrow(FlushValidationError);
    expect((await rawRequest(app, `/runs/bad%20key`)).status).toBe(400);
    const k = key();
    const live = await readRun(app, `/runs/${k}/forever`, { stopAfterEvents: 1 });
    expect(live.status).toBe(200);
    for (const id of ['nope', '1-2-3'])
      expect(
        (await rawRequest(app, `/runs/${k}`, { headers: { 'last-event-id': id } })).status,
      ).toBe(400);
    expect(
      (await rawRequest(app, `/runs/${k}`, { headers: { 'last-event-id': '1-0' } })).status,
    ).toBe(400);
    const second = await rawRequest(app, `/runs/${k}/start`);
    expect(second.status).toBe(409);
    expect(runProbe.started.get(k)).toBe(1);
    await app.get(FlushHub).cancel(k);
    await waitFor(() => runProbe.aborted.has(k), 'the producer aborted');
    // Ended, but its replay is kept: the key stays taken.
    await waitFor(
      async () => endOf((await readRun(app, `/runs/${k}`)).events) !== undefined,
      'the end',
    );
    expect((await rawRequest(app, `/runs/${k}/start`)).status).toBe(409);
    expect((await rawRequest(app, `/runs/${key()}/cancel`, { method: 'POST' })).status).toBe(404);
  });

  it('cancel() aborts the producer signal; the run ends with status cancelled for every attached client', async () => {
    const k = key();
    const attached = readRun(app, `/runs/${k}`);
    void attached.catch(() => undefined);
    const starter = readRun(app, `/runs/${k}/forever`);
    await waitFor(() => runProbe.started.has(k), 'the producer');
    const cancel = await rawRequest(app, `/runs/${k}/cancel`, { method: 'POST' });
    expect(cancel.status).toBe(204);
    const res = await starter;
    expect(endOf(res.events)).toEqual({ status: 'cancelled' });
    expect(runProbe.aborted.has(k)).toBe(true);
    const late = await readRun(app, `/runs/${k}`);
    expect(endOf(late.events)).toEqual({ status: 'cancelled' });
    expect(runText(late.events)).toBe(runText(res.events));
  });

  it('ends a run whose producer throws with status failed and a sanitized message; the app goes on', async () => {
    const k = key();
    const res = await readRun(app, `/runs/${k}/failing`);
    expect(res.status).toBe(200);
    expect(runText(res.events)).toBe('ab');
    expect(endOf(res.events)).toEqual({ status: 'failed', message: 'Internal server error' });
    expect(res.body).not.toContain('secret');
    expect(endOf((await readRun(app, `/runs/${key()}/start?n=2&ms=0`)).events)).toEqual({
      status: 'completed',
    });
  });

  it('drops the replay ttlMs after the end: then 404', async () => {
    const k = key();
    const res = await readRun(app, `/runs/${k}/start?n=3&ms=0&ttl=200`);
    expect(endOf(res.events)).toEqual({ status: 'completed' });
    await waitFor(
      async () => (await rawRequest(app, `/runs/${k}`)).status === 404,
      'the expiry',
      3000,
    );
    // The key is free again.
    expect(endOf((await readRun(app, `/runs/${k}/start?n=1&ms=0`)).events)).toEqual({
      status: 'completed',
    });
  });

  it('caps concurrent runs with maxRuns: 429 with Retry-After', async () => {
    const keys = Array.from({ length: 5 }, key);
    for (const k of keys) await readRun(app, `/runs/${k}/forever`, { stopAfterEvents: 1 });
    const over = await rawRequest(app, `/runs/${key()}/start`);
    expect(over.status).toBe(429);
    expect(over.headers['retry-after']).toBe('5');
    for (const k of keys) await app.get(FlushHub).cancel(k);
    await waitFor(
      async () => (await rawRequest(app, `/runs/${key()}/start?n=1&ms=0`)).status === 200,
      'a free slot',
    );
  });
});

describe.each(platforms)('runs limits (%s)', platform => {
  let app: INestApplication;
  afterEach(() => app?.close());

  it('ends a run past maxRunDurationMs with status expired', async () => {
    app = await startApp(platform, [runsApp({ maxRunDurationMs: 300 })]);
    const k = key();
    const res = await readRun(app, `/runs/${k}/forever`);
    expect(endOf(res.events)).toEqual({ status: 'expired', reason: 'duration' });
    expect(runProbe.aborted.has(k)).toBe(true);
  });

  it('stops a run nobody is attached to for runUnattendedStopMs; attached, it goes on', async () => {
    app = await startApp(platform, [runsApp({ runUnattendedStopMs: 300 })]);
    const k = key();
    await readRun(app, `/runs/${k}/forever`, { stopAfterEvents: 1 });
    await waitFor(() => runProbe.aborted.has(k), 'the unattended stop', 3000);
    const res = await readRun(app, `/runs/${k}`);
    expect(endOf(res.events)).toEqual({ status: 'expired', reason: 'unattended' });
    const watched = key();
    const client = readRun(app, `/runs/${watched}/forever`, { stopAfterEvents: 40 });
    const read = await client;
    expect(runText(read.events)).toBe(tokenText(40)); // 40 × 20 ms: longer than 300 ms attached
    expect(runProbe.aborted.has(watched)).toBe(false);
    await app.get(FlushHub).cancel(watched);
  });

  it('ends the runs of an instance that shuts down with status failed', async () => {
    app = await startApp(platform, [runsApp()]);
    const k = key();
    const client = readRun(app, `/runs/${k}/forever`);
    await waitFor(() => runProbe.started.has(k), 'the producer');
    const hub = app.get(FlushHub);
    const events: { type?: string; data: unknown }[] = [];
    hub.attach(k).subscribe(e => events.push({ type: e.type, data: e.data }));
    await app.close();
    expect(runProbe.aborted.has(k)).toBe(true);
    expect(events.at(-1)).toEqual({
      type: 'end',
      data: '{"status":"failed","message":"The instance running it shut down."}',
    });
    await client;
  });
});
