import { createOpenAiSession } from './openai.format.js';

// The frames follow OpenAI's Chat Completions streaming (chat.completion.chunk objects as SSE
// `data:` lines, `data: [DONE]` last) as openai-node reads them: src/core/streaming.ts of
// openai/openai-node (`Stream.fromSSEResponse`: stops at `[DONE]`, throws APIError for an
// `error` field) and the ChatCompletionChunk type in src/resources/chat/completions/completions.ts.
const chunk = (delta: object, finishReason: string | null = null) =>
  `data: ${JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  })}\n\n`;

const session = () => createOpenAiSession({ id: 'chatcmpl-1', created: 1700000000, model: 'm' });

describe('the openai format', () => {
  it('strings become content deltas, the first with the role; the end is a stop chunk and [DONE]', () => {
    const s = session();
    expect(s.encode('Hel')).toBe(chunk({ role: 'assistant', content: 'Hel' }));
    expect(s.encode('lo\n')).toBe(chunk({ content: 'lo\n' }));
    expect(s.end('completed')).toBe(chunk({}, 'stop') + 'data: [DONE]\n\n');
  });

  it('an empty stream still says who speaks and why it stopped', () => {
    expect(session().end('completed')).toBe(
      chunk({ role: 'assistant' }, 'stop') + 'data: [DONE]\n\n',
    );
  });

  it('objects are chunks written as they are; a finish_reason of the producer is not repeated', () => {
    const s = session();
    const own = {
      id: 'x',
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { role: 'assistant' }, finish_reason: 'length' }],
    };
    expect(s.encode(own)).toBe(`data: ${JSON.stringify(own)}\n\n`);
    expect(s.encode('more')).toBe(chunk({ content: 'more' }));
    expect(s.end('completed')).toBe('data: [DONE]\n\n');
  });

  it("a failure is OpenAI's error object (no [DONE]): server errors as server_error", () => {
    const s = session();
    s.encode('a');
    expect(s.end('failed', { statusCode: 500, message: 'Internal server error' })).toBe(
      'data: {"error":{"message":"Internal server error","type":"server_error","param":null,"code":null}}\n\n',
    );
    expect(session().end('failed', { statusCode: 429, message: 'Slow down' })).toBe(
      'data: {"error":{"message":"Slow down","type":"invalid_request_error","param":null,"code":null}}\n\n',
    );
  });

  it('cancelled and expired end with [DONE] and no finish_reason', () => {
    expect(session().end('cancelled')).toBe('data: [DONE]\n\n');
    expect(session().end('expired')).toBe('data: [DONE]\n\n');
  });

  it('refuses what is neither a string nor a chunk object', () => {
    expect(() => session().encode(5)).toThrow(
      "@Flush({ format: 'openai' }) writes strings (content deltas) and chunk objects; the producer emitted number.",
    );
    expect(() => session().encode(null)).toThrow(/emitted null/);
    expect(() => session().encode(Buffer.from('x'))).toThrow(TypeError);
    expect(() => session().encode({ n: 1n })).toThrow(TypeError);
  });

  it('makes an OpenAI-like id and the current time by default', () => {
    const frame = createOpenAiSession().encode('x') as string;
    const parsed = JSON.parse(frame.slice('data: '.length)) as {
      id: string;
      created: number;
      model: string;
    };
    expect(parsed.id).toMatch(/^chatcmpl-[0-9a-f]{32}$/);
    expect(Math.abs(parsed.created - Date.now() / 1000)).toBeLessThan(5);
    expect(parsed.model).toBe('nestjs-flush');
  });
});
