import { createAiSdkSession } from './ai-sdk.format.js';

// The parts and framing of the AI SDK UI message stream v1, from vercel/ai:
// packages/ai/src/ui-message-stream/ui-message-chunks.ts (the part schema),
// json-to-sse-transform-stream.ts (`data: <json>\n\n` per part, `data: [DONE]\n\n` last),
// ui-message-stream-headers.ts (`x-vercel-ai-ui-message-stream: v1`), create-ui-message-stream.ts
// (a failure is an `error` part, then the stream ends), and packages/ai/src/ui/process-ui-message-stream.ts
// (a text-delta needs its text-start first).
const part = (value: object) => `data: ${JSON.stringify(value)}\n\n`;
const DONE = 'data: [DONE]\n\n';
const session = () => createAiSdkSession({ messageId: 'msg-1' });

describe('the ai-sdk format', () => {
  it('strings are text deltas inside start / text-start / text-end / finish, then [DONE]', () => {
    const s = session();
    expect(s.encode('Hel')).toBe(
      part({ type: 'start', messageId: 'msg-1' }) +
        part({ type: 'text-start', id: 'text-1' }) +
        part({ type: 'text-delta', id: 'text-1', delta: 'Hel' }),
    );
    expect(s.encode('lo')).toBe(part({ type: 'text-delta', id: 'text-1', delta: 'lo' }));
    expect(s.end('completed')).toBe(
      part({ type: 'text-end', id: 'text-1' }) +
        part({ type: 'finish', finishReason: 'stop' }) +
        DONE,
    );
  });

  it('an empty stream is a start and a finish', () => {
    expect(session().end('completed')).toBe(
      part({ type: 'start', messageId: 'msg-1' }) +
        part({ type: 'finish', finishReason: 'stop' }) +
        DONE,
    );
  });

  it("objects are parts; the producer's own start and finish are not duplicated", () => {
    const s = session();
    expect(s.encode({ type: 'start', messageId: 'mine' })).toBe(
      part({ type: 'start', messageId: 'mine' }),
    );
    expect(s.encode('a')).toBe(
      part({ type: 'text-start', id: 'text-1' }) +
        part({ type: 'text-delta', id: 'text-1', delta: 'a' }),
    );
    expect(s.encode({ type: 'data-weather', data: { t: 21 } })).toBe(
      part({ type: 'data-weather', data: { t: 21 } }),
    );
    // The open text part is closed before a finish.
    expect(s.encode({ type: 'finish', finishReason: 'length' })).toBe(
      part({ type: 'text-end', id: 'text-1' }) + part({ type: 'finish', finishReason: 'length' }),
    );
    expect(s.end('completed')).toBe(DONE);
  });

  it('a part before any string gets the start before it; text after a finish-step is a new text part', () => {
    const s = session();
    expect(s.encode({ type: 'start-step' })).toBe(
      part({ type: 'start', messageId: 'msg-1' }) + part({ type: 'start-step' }),
    );
    s.encode('a');
    expect(s.encode({ type: 'finish-step' })).toBe(
      part({ type: 'text-end', id: 'text-1' }) + part({ type: 'finish-step' }),
    );
    expect(s.encode('b')).toBe(
      part({ type: 'text-start', id: 'text-2' }) +
        part({ type: 'text-delta', id: 'text-2', delta: 'b' }),
    );
  });

  it('a failure is an error part, then [DONE]', () => {
    const s = session();
    s.encode('a');
    expect(s.end('failed', { statusCode: 500, message: 'Internal server error' })).toBe(
      part({ type: 'error', errorText: 'Internal server error' }) + DONE,
    );
  });

  it('cancelled and expired close the text and end with an abort part', () => {
    const s = session();
    s.encode('a');
    expect(s.end('cancelled')).toBe(
      part({ type: 'text-end', id: 'text-1' }) +
        part({ type: 'abort', reason: 'cancelled' }) +
        DONE,
    );
    expect(session().end('expired')).toBe(part({ type: 'abort', reason: 'expired' }) + DONE);
  });

  it('refuses what is neither a string nor a part', () => {
    expect(() => session().encode({ text: 'x' })).toThrow(
      "@Flush({ format: 'ai-sdk' }) writes strings (text deltas) and UI message parts ({ type, … }); the producer emitted object.",
    );
    expect(() => session().encode(1)).toThrow(/emitted number/);
    expect(() => session().encode([{ type: 'x' }])).toThrow(/emitted an array/);
  });
});
