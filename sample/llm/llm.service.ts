import { Injectable } from '@nestjs/common';

const ANSWERS: { match: RegExp; text: string }[] = [
  {
    match: /interceptor|envelope|timeout/i,
    text:
      'Global interceptors are written for JSON: an envelope interceptor maps every response into ' +
      '{ code, message, data }, and a timeout interceptor fails any request slower than five seconds. ' +
      'Applied to a stream, the first one wraps every event and the second one kills every quiet or long ' +
      'stream. Once FlushModule is imported, interceptors registered globally leave streaming routes alone, ' +
      'without a single change to their code, while JSON routes keep their envelope. Interceptors that are ' +
      'safe on streams, such as logging or tracing, opt back in with @StreamSafe(). Answers like this one may ' +
      'stream for minutes: the five-second timeout of this app no longer applies to them.',
  },
  {
    match: /resume|reconnect|last-?event-?id|history/i,
    text:
      'Every event published through FlushHub gets an id, and each channel keeps a bounded history. ' +
      'When an EventSource reconnects it sends the Last-Event-ID header; a client that opens a new ' +
      'connection can pass ?lastEventId= instead. The hub then replays every retained event after that id ' +
      'and switches to live events, with no gap and no duplicate at the boundary. If the id is older than ' +
      'the history, the client receives a resync event and refetches its state. With the Redis transport ' +
      'the same works across instances: reconnect to any of them and resume where you left off.',
  },
];

const DEFAULT_ANSWER =
  'nestjs-flush makes streamed responses reach the client the moment they are produced. ' +
  'Return an Observable or an async generator from a controller method and mark it with @Flush(): ' +
  'Server-Sent Events, NDJSON or plain text, on express and fastify. Every event is flushed at once, ' +
  'also through compression middleware and buffering proxies; idle streams get heartbeats; a client ' +
  'that leaves aborts the producer through an AbortSignal, which is how this answer stops when you ' +
  'press Stop. Global interceptors no longer wrap or time out streams, FlushHub broadcasts channels ' +
  'with Last-Event-ID resume, and app.close() ends open streams promptly instead of waiting for every ' +
  'client to leave. This answer is canned, but it arrives token by token, exactly like a real model.';

/** The canned answer to `prompt`: what its tokens add up to, whatever their pace. */
export const answerFor = (prompt: string): string =>
  ANSWERS.find(a => a.match.test(prompt))?.text ?? DEFAULT_ANSWER;

/** Splits text into word-sized tokens that keep their leading space, like a model's tokens. */
export const tokenize = (text: string): string[] => text.match(/\s*\S+/g) ?? [];

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise(resolve => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

/** A pretend language model: a canned answer, streamed token by token at a human-ish pace. */
@Injectable()
export class LlmService {
  /** Tokens of the answer to `prompt`; stops as soon as `signal` aborts. */
  async *complete(prompt: string, signal: AbortSignal, delayMs = 30): AsyncGenerator<string> {
    const tokens = tokenize(answerFor(prompt));
    await sleep(250, signal); // "thinking"
    for (const token of tokens) {
      if (signal.aborted) return;
      yield token;
      await sleep(delayMs + Math.round(Math.random() * delayMs), signal);
    }
  }
}
