import { request } from 'node:http';
import { createGunzip } from 'node:zlib';
import type { INestApplication } from '@nestjs/common';
import compression from 'compression';
import fastifyCompress from '@fastify/compress';
import OpenAI, { APIError } from 'openai';
import { DefaultChatTransport, readUIMessageStream, type UIMessage } from 'ai';
import { baseUrl, parseSseStream } from '../src/testing/index.js';
import { GlobalEnvelopeInterceptor } from './fixtures/exclusion/exclusion.interceptors.js';
import {
  ANSWER,
  formatsFixtureModule,
  formatsProbe,
} from './fixtures/formats/formats.controller.js';
import { openStream, rawRequest } from './utils/http.js';
import { parseJson } from './utils/json.js';
import { platforms, startApp, type PlatformName } from './utils/platforms.js';
import { waitFor } from './utils/wait.js';

// Protocol sources the expected frames follow:
// - OpenAI Chat Completions streaming, as openai/openai-node reads it: src/core/streaming.ts
//   (`Stream.fromSSEResponse`: JSON `data:` events, stops at `data: [DONE]`, throws APIError for
//   an event carrying an `error` object) and the ChatCompletionChunk type in
//   src/resources/chat/completions/completions.ts.
// - Vercel AI SDK UI message stream v1, vercel/ai packages/ai/src/ui-message-stream/:
//   ui-message-chunks.ts (parts), json-to-sse-transform-stream.ts (`data: <json>\n\n`, then
//   `data: [DONE]\n\n`), ui-message-stream-headers.ts (`x-vercel-ai-ui-message-stream: v1`),
//   create-ui-message-stream.ts (a failure is an `error` part, then the end); the client side is
//   packages/ai/src/ui/default-chat-transport.ts (parseJsonEventStream + uiMessageChunkSchema)
//   and packages/ai/src/ui/process-ui-message-stream.ts.

const TEXT = ANSWER.join('');
const DONE = 'data: [DONE]\n\n';
const frame = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;

/** The id and created time of the stream's first chunk (generated per stream). */
const chunkIdentity = (body: string) => {
  const { id, created } = parseJson<{ id: string; created: number }>(
    parseSseStream(body).events[0].data,
  );
  expect(id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
  return { id, created };
};

/** One chunk as the 'openai' format writes it (the key order is part of the bytes). */
const openAiChunk = (
  body: string,
  model: string,
  delta: Record<string, string>,
  finishReason: string | null = null,
) => {
  const { id, created } = chunkIdentity(body);
  return frame({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  });
};

/** Reads what AI SDK's own client makes of the route: the last state of the assistant message. */
const chatWithAiSdk = async (app: INestApplication, body: Record<string, unknown> = {}) => {
  const transport = new DefaultChatTransport<UIMessage>({ api: `${baseUrl(app)}/api/chat`, body });
  const chunks = await transport.sendMessages({
    chatId: 'chat-1',
    messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'Hi' }] }],
    trigger: 'submit-message',
    messageId: undefined,
    abortSignal: undefined,
  });
  const errors: string[] = [];
  let message: UIMessage | undefined;
  for await (const state of readUIMessageStream<UIMessage>({
    stream: chunks,
    onError: err => errors.push((err as Error).message),
  }))
    message = state;
  return { message, errors };
};

const textOf = (message: UIMessage | undefined) =>
  (message?.parts ?? []).map(part => (part.type === 'text' ? part.text : '')).join('');

const withCompression = async (platform: PlatformName, app: INestApplication) => {
  if (platform === 'express') app.use(compression());
  else
    await (app as unknown as { register: (p: unknown, o?: unknown) => Promise<void> }).register(
      fastifyCompress,
      { global: true, threshold: 0 },
    );
};

/** A GET that accepts gzip and records each decoded part with its arrival time. */
const readDecoded = (app: INestApplication, path: string) =>
  new Promise<{ status: number; encoding?: string; parts: { at: number; text: string }[] }>(
    (resolve, reject) => {
      const started = Date.now();
      const req = request(
        `${baseUrl(app)}${path}`,
        { headers: { 'accept-encoding': 'gzip' } },
        res => {
          const parts: { at: number; text: string }[] = [];
          const encoding = res.headers['content-encoding'];
          const body = encoding === 'gzip' ? res.pipe(createGunzip()) : res;
          body.on('data', (d: Buffer) =>
            parts.push({ at: Date.now() - started, text: d.toString() }),
          );
          body.on('end', () => resolve({ status: res.statusCode ?? 0, encoding, parts }));
          body.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end();
    },
  );

describe.each(platforms)('formats (%s)', platform => {
  let app: INestApplication;
  let client: OpenAI;
  beforeAll(async () => {
    // A global envelope interceptor: the formats and the passthrough must not be enveloped.
    app = await startApp(platform, [formatsFixtureModule()], a => {
      a.useGlobalInterceptors(new GlobalEnvelopeInterceptor());
    });
    client = new OpenAI({ baseURL: `${baseUrl(app)}/v1`, apiKey: 'x', maxRetries: 0 });
  });
  afterAll(() => app.close());
  beforeEach(() => formatsProbe.reset());

  describe("'openai'", () => {
    it('the official openai client reads the answer through baseURL, chunk by chunk', async () => {
      const stream = await client.chat.completions.create({
        model: 'anything',
        messages: [{ role: 'user', content: 'Hi' }],
        stream: true,
      });
      const contents: string[] = [];
      const finishReasons: (string | null)[] = [];
      for await (const chunk of stream) {
        expect(chunk.object).toBe('chat.completion.chunk');
        expect(chunk.model).toBe('flush-test');
        contents.push(chunk.choices[0].delta.content ?? '');
        finishReasons.push(chunk.choices[0].finish_reason);
      }
      expect(contents.join('')).toBe(TEXT);
      expect(finishReasons.at(-1)).toBe('stop');
      expect(finishReasons.slice(0, -1).every(reason => reason === null)).toBe(true);
    });

    it('a failure mid-stream reaches the client as an APIError with the sanitized message', async () => {
      const stream = await client.chat.completions.create({
        model: 'fail', // the fixture's mode
        messages: [],
        stream: true,
      });
      const contents: string[] = [];
      let caught: unknown;
      try {
        for await (const chunk of stream) contents.push(chunk.choices[0].delta.content ?? '');
      } catch (err) {
        caught = err;
      }
      expect(contents.join('')).toBe(ANSWER.slice(0, 2).join(''));
      expect(caught).toBeInstanceOf(APIError);
      expect((caught as APIError).message).toBe('Internal server error');
      expect((caught as APIError).type).toBe('server_error');
    });

    it('an HttpException mid-stream keeps its message', async () => {
      const stream = await client.chat.completions.create({
        model: 'reject', // the fixture's mode
        messages: [],
        stream: true,
      });
      await expect(
        (async () => {
          const chunks: unknown[] = [];
          for await (const chunk of stream) chunks.push(chunk);
        })(),
      ).rejects.toMatchObject({ message: 'Token budget exhausted', type: 'invalid_request_error' });
    });

    it('stream.controller.abort() stops the producer (its @FlushSignal() aborts)', async () => {
      const stream = await client.chat.completions.create({
        model: 'forever', // the fixture's mode
        messages: [],
        stream: true,
      });
      const received: string[] = [];
      for await (const chunk of stream) {
        received.push(chunk.choices[0].delta.content ?? '');
        if (received.length === 2) stream.controller.abort();
      }
      expect(received).toEqual(ANSWER.slice(0, 2));
      await waitFor(() => formatsProbe.stopped.has('openai:forever'), 'the producer to stop');
    });

    it('writes the exact frames: role first, content deltas, a stop chunk, [DONE]', async () => {
      const res = await rawRequest(app, '/openai/words');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(res.headers['cache-control']).toContain('no-transform');
      const model = 'nestjs-flush';
      expect(res.body).toBe(
        openAiChunk(res.body, model, { role: 'assistant', content: ANSWER[0] }) +
          ANSWER.slice(1)
            .map(word => openAiChunk(res.body, model, { content: word }))
            .join('') +
          openAiChunk(res.body, model, {}, 'stop') +
          DONE,
      );
      expect(res.complete).toBe(true);
      // Each word left when it was produced.
      expect(res.chunks.length).toBeGreaterThanOrEqual(ANSWER.length);
    });

    it('writes the error object after the chunks sent, and no [DONE]', async () => {
      const res = await rawRequest(app, '/openai/fail');
      expect(res.body).toBe(
        openAiChunk(res.body, 'nestjs-flush', { role: 'assistant', content: ANSWER[0] }) +
          openAiChunk(res.body, 'nestjs-flush', { content: ANSWER[1] }) +
          frame({
            error: {
              message: 'Internal server error',
              type: 'server_error',
              param: null,
              code: null,
            },
          }),
      );
      expect(res.complete).toBe(true);
    });

    it("passes the producer's chunks through and does not repeat its finish_reason", async () => {
      const res = await rawRequest(app, '/openai/objects');
      expect(parseSseStream(res.body).events.map(e => e.data)).toEqual([
        expect.stringContaining('"delta":{"role":"assistant","content":"Hi"}'),
        JSON.stringify({
          id: 'chatcmpl-own',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'own',
          choices: [{ index: 0, delta: {}, finish_reason: 'length' }],
        }),
        '[DONE]',
      ]);
    });
  });

  describe('at a stream control deadline (maxLifetimeMs)', () => {
    it("'openai' ends with [DONE] (no finish_reason), never an SSE event the client would parse", async () => {
      const res = await rawRequest(app, '/openai/expiring');
      const events = parseSseStream(res.body).events;
      expect(events.every(e => e.event === undefined)).toBe(true);
      expect(events.at(-1)!.data).toBe('[DONE]');
      expect(res.body).not.toContain('finish_reason":"stop');
      expect(res.complete).toBe(true);
      await waitFor(() => formatsProbe.stopped.has('openai-expiring'), 'the producer to stop');
    });

    it("'ai-sdk' closes the text part and ends with an abort part, then [DONE]", async () => {
      const res = await rawRequest(app, '/ai-sdk/expiring');
      const ending =
        frame({ type: 'text-end', id: 'text-1' }) +
        frame({ type: 'abort', reason: 'expired' }) +
        DONE;
      expect(res.body.slice(-ending.length)).toBe(ending);
      expect(parseSseStream(res.body).events.every(e => e.event === undefined)).toBe(true);
    });
  });

  describe("'ai-sdk'", () => {
    it("AI SDK's own client (DefaultChatTransport, readUIMessageStream) assembles the answer", async () => {
      const { message, errors } = await chatWithAiSdk(app);
      expect(errors).toEqual([]);
      expect(message?.role).toBe('assistant');
      expect(message?.id).toMatch(/^msg-/);
      expect(message?.parts).toEqual([{ type: 'text', text: TEXT, state: 'done' }]);
      expect(textOf(message)).toBe(TEXT);
    });

    it("a failure mid-stream reaches the client as the format's error part", async () => {
      const { message, errors } = await chatWithAiSdk(app, { mode: 'fail' });
      expect(errors).toEqual(['Internal server error']);
      expect(textOf(message)).toBe(ANSWER.slice(0, 2).join(''));
    });

    it('the client leaving stops the producer', async () => {
      const controller = new AbortController();
      const transport = new DefaultChatTransport<UIMessage>({
        api: `${baseUrl(app)}/api/chat`,
        body: { mode: 'forever' },
      });
      const chunks = await transport.sendMessages({
        chatId: 'c',
        messages: [],
        trigger: 'submit-message',
        messageId: undefined,
        abortSignal: controller.signal,
      });
      const reader = chunks.getReader();
      await reader.read();
      controller.abort();
      await reader.cancel().catch(() => undefined);
      await waitFor(() => formatsProbe.stopped.has('ai-sdk:forever'), 'the producer to stop');
    });

    it('writes the exact frames with the v1 header: start, text-start, deltas, text-end, finish, [DONE]', async () => {
      const res = await rawRequest(app, '/ai-sdk/words');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(res.headers['x-vercel-ai-ui-message-stream']).toBe('v1');
      const { messageId } = parseJson<{ messageId: string }>(
        parseSseStream(res.body).events[0].data,
      );
      expect(res.body).toBe(
        frame({ type: 'start', messageId }) +
          frame({ type: 'text-start', id: 'text-1' }) +
          ANSWER.map(delta => frame({ type: 'text-delta', id: 'text-1', delta })).join('') +
          frame({ type: 'text-end', id: 'text-1' }) +
          frame({ type: 'finish', finishReason: 'stop' }) +
          DONE,
      );
      expect(res.complete).toBe(true);
    });

    it('writes an error part, then [DONE], after a failure', async () => {
      const res = await rawRequest(app, '/ai-sdk/fail');
      const { messageId } = parseJson<{ messageId: string }>(
        parseSseStream(res.body).events[0].data,
      );
      expect(res.body).toBe(
        frame({ type: 'start', messageId }) +
          frame({ type: 'text-start', id: 'text-1' }) +
          ANSWER.slice(0, 2)
            .map(delta => frame({ type: 'text-delta', id: 'text-1', delta }))
            .join('') +
          frame({ type: 'error', errorText: 'Internal server error' }) +
          DONE,
      );
    });

    it("passes the producer's parts through; its finish replaces the library's", async () => {
      const res = await rawRequest(app, '/ai-sdk/parts');
      const types = parseSseStream(res.body).events.map(e =>
        e.data === '[DONE]' ? e.data : parseJson<{ type: string }>(e.data).type,
      );
      expect(types).toEqual([
        'start',
        'data-status',
        'text-start',
        'text-delta',
        'source-url',
        'text-delta',
        'text-end',
        'finish',
        '[DONE]',
      ]);
      expect(res.body).toContain(
        frame({ type: 'finish', finishReason: 'stop', messageMetadata: { tokens: 3 } }),
      );
    });
  });

  describe('a web Response', () => {
    it('passes status, headers and body through, each chunk when produced, not enveloped', async () => {
      const res = await rawRequest(app, '/response/csv');
      expect(res.status).toBe(202);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['x-source']).toBe('web');
      expect(res.headers['set-cookie']).toEqual(['a=1; Path=/', 'b=2; Path=/']);
      expect(res.headers['content-length']).toBeUndefined();
      expect(res.body).toBe('id,name\n1,é\n2,✓\n');
      expect(res.complete).toBe(true);
      expect(res.chunks.map(c => c.data.toString())).toEqual(['id,name\n', '1,é\n', '2,✓\n']);
      expect(res.chunks[2].at - res.chunks[0].at).toBeGreaterThan(100);
    });

    it("from a Promise, on an 'ai-sdk' route: the Response's headers, not the format's", async () => {
      const res = await rawRequest(app, '/response/promise');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.headers['x-vercel-ai-ui-message-stream']).toBeUndefined();
      expect(res.body).toBe('abc');
    });

    it('cancels the body when the client leaves, also while the body is quiet', async () => {
      const stream = openStream(app, '/response/forever');
      await waitFor(() => stream.body === 'first\n', 'the first chunk');
      expect(formatsProbe.cancelled.has('forever')).toBe(false);
      stream.close();
      await waitFor(() => formatsProbe.cancelled.has('forever'), 'the body to be cancelled');
    });

    it('a null body: the headers, then the end', async () => {
      const res = await rawRequest(app, '/response/empty');
      expect(res.status).toBe(204);
      expect(res.headers['x-empty']).toBe('yes');
      expect(res.body).toBe('');
    });

    it('HEAD: the headers, and the body cancelled unread', async () => {
      const res = await rawRequest(app, '/response/csv', { method: 'HEAD' });
      expect(res.status).toBe(202);
      expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
      await waitFor(() => formatsProbe.cancelled.has('csv'), 'the body to be cancelled');
    });

    it('a body read already answers 500 before any byte', async () => {
      const res = await rawRequest(app, '/response/used');
      expect(res.status).toBe(500);
    });
  });
});

describe.each(platforms)('a web Response behind compression middleware (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [formatsFixtureModule()], a => withCompression(platform, a));
  });
  afterAll(() => app.close());

  it('reaches the client chunk by chunk', async () => {
    const { status, encoding, parts } = await readDecoded(app, '/response/csv');
    expect(status).toBe(202);
    // express compression() gzips text/csv and the writer flushes it per chunk; fastify's
    // compression hook never sees the raw response.
    expect(encoding).toBe(platform === 'express' ? 'gzip' : undefined);
    expect(parts.map(p => p.text).join('')).toBe('id,name\n1,é\n2,✓\n');
    expect(parts.map(p => p.text)).toEqual(['id,name\n', '1,é\n', '2,✓\n']);
    expect(parts[2].at - parts[0].at).toBeGreaterThan(100);
  });
});
