// Issue 19: a run returned from (or attached on) an 'openai' / 'ai-sdk' route is written in that
// format, its `end` event as the format's own ending; an unknown run on an 'ai-sdk' route answers
// 204 (the AI SDK's resume). Read by the real clients (the official `openai` package; the `ai`
// package's own UI message stream reader) and byte by byte.
import { expect } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import OpenAI from 'openai';
import { readUIMessageStream, uiMessageChunkSchema, parseJsonEventStream } from 'ai';
import { baseUrl, parseSseStream } from '../src/testing/index.js';
import { runsApp, tokenText } from './fixtures/runs/runs.controller.js';
import { rawRequest } from './utils/http.js';
import { parseJson } from './utils/json.js';
import { platforms, startApp } from './utils/platforms.js';

const key = () => `k-${randomUUID()}`;

describe.each(platforms)('runs in the AI formats (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [runsApp({ runTtlMs: 60_000 })]);
  });
  afterAll(() => app?.close());

  it("writes a run as OpenAI chunks the official client reads, ending with finish_reason 'stop' and [DONE]", async () => {
    const k = key();
    const client = new OpenAI({ baseURL: `${baseUrl(app)}/runs/${k}/openai`, apiKey: 'test' });
    const stream = await client.chat.completions.create({
      model: 'any',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    const reasons: (string | null)[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      reasons.push(chunk.choices[0]?.finish_reason ?? null);
    }
    expect(text).toBe(tokenText(5));
    expect(reasons.at(-1)).toBe('stop');
    expect(reasons.filter(r => r === 'stop')).toHaveLength(1); // the run's end, written once
  });

  it('writes a run as an AI SDK UI message stream; the resume GET re-attaches in the format; an unknown run is 204', async () => {
    const k = key();
    const started = await rawRequest(app, `/runs/${k}/ai-sdk`, { method: 'POST' });
    expect(started.status).toBe(200);
    expect(started.headers['x-vercel-ai-ui-message-stream']).toBe('v1');
    const frames = parseSseStream(started.body).events.map(e => e.data);
    expect(frames.at(-1)).toBe('[DONE]');
    const parts = frames.slice(0, -1).map(data => parseJson<{ type: string }>(data));
    expect(parts.map(p => p.type)).toEqual([
      'start',
      'text-start',
      ...Array.from({ length: 5 }, () => 'text-delta'),
      'text-end',
      'finish',
    ]);

    // The AI SDK's own reader assembles the re-attached run into the same text.
    const resumed = await fetch(`${baseUrl(app)}/runs/${k}/ai-sdk`);
    expect(resumed.status).toBe(200);
    const chunks = parseJsonEventStream({ stream: resumed.body!, schema: uiMessageChunkSchema });
    let text = '';
    for await (const message of readUIMessageStream({
      stream: chunks.pipeThrough(
        new TransformStream({
          transform(result, controller) {
            if (result.success) controller.enqueue(result.value);
          },
        }),
      ),
    })) {
      text = message.parts.map(p => (p.type === 'text' ? p.text : '')).join('');
    }
    expect(text).toBe(tokenText(5));

    const unknown = await rawRequest(app, `/runs/${key()}/ai-sdk`);
    expect(unknown.status).toBe(204);
    expect(unknown.body).toBe('');
    // On a plain SSE route an unknown run stays a 404.
    expect((await rawRequest(app, `/runs/${key()}`)).status).toBe(404);
  });
});
