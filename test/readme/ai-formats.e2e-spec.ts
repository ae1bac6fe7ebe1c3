// Runs the README's LLM format examples (ai-formats.ts) with the clients the README names.
import type { INestApplication } from '@nestjs/common';
import OpenAI from 'openai';
import { DefaultChatTransport, readUIMessageStream, type UIMessage } from 'ai';
import { baseUrl } from 'nestjs-flush/testing';
import { rawRequest } from '../utils/http.js';
import { platforms, startApp } from '../utils/platforms.js';
import { AppModule } from './ai-formats.js';

describe.each(platforms)('README: LLM formats (%s)', platform => {
  let app: INestApplication;
  beforeAll(async () => {
    app = await startApp(platform, [AppModule]);
  });
  afterAll(() => app.close());

  it('the openai client reads /v1/chat/completions', async () => {
    const client = new OpenAI({ baseURL: `${baseUrl(app)}/v1`, apiKey: 'unused' });
    const stream = await client.chat.completions.create({
      model: 'my-model',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('You said: hi');
  });

  it("AI SDK's chat transport reads /api/chat", async () => {
    const transport = new DefaultChatTransport<UIMessage>({ api: `${baseUrl(app)}/api/chat` });
    const chunks = await transport.sendMessages({
      chatId: 'c1',
      messages: [{ id: 'u1', role: 'user', parts: [{ type: 'text', text: 'hi' }] }],
      trigger: 'submit-message',
      messageId: undefined,
      abortSignal: undefined,
    });
    let message: UIMessage | undefined;
    for await (const state of readUIMessageStream<UIMessage>({ stream: chunks })) message = state;
    expect(message?.parts).toEqual([{ type: 'text', text: 'You said: hi', state: 'done' }]);
  });

  it('the Response goes out as it is', async () => {
    const res = await rawRequest(app, '/report.csv');
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(res.body).toBe('id,total\n1,42\n2,7\n');
  });
});
