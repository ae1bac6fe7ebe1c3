import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createParser } from 'eventsource-parser';
import { toParsed, type ParsedSseEvent } from './sse-stream.parser.js';

/** A Nest application listening on a port, or a base URL such as `http://127.0.0.1:3000`. @publicApi */
export type StreamTarget = string | { getHttpServer(): unknown };

/** Options of `readSse()` / `readNdjson()`. @publicApi */
export interface StreamReadOptions<T> {
  /** @default 'GET' */
  method?: string;
  headers?: Record<string, string>;
  /** Request body; objects are sent as JSON. */
  body?: unknown;
  /** Stop after this many items (events or lines). */
  count?: number;
  /** Stop after the first item for which this returns true (the item is included). */
  until?: (item: T, all: readonly T[]) => boolean;
  /** Fail after this long without reaching `count`/`until` or the end. @default 5000 */
  timeoutMs?: number;
}

/** What a read got. @publicApi */
export interface StreamReadResult<T> {
  status: number;
  headers: IncomingHttpHeaders;
  items: T[];
  /** Milliseconds from the request to the arrival of each item. */
  arrivals: number[];
  /** SSE only: comments (heartbeats) and retry hints seen. */
  comments: string[];
  retries: number[];
  /** Whether the server ended the stream (rather than the reader stopping early). */
  ended: boolean;
}

/**
 * The base URL (`http://127.0.0.1:<port>`) of a listening Nest application, or a URL string as
 * it is: for requests of your own next to `readSse()` / `readNdjson()`.
 * @example await fetch(`${baseUrl(app)}/news`, { method: 'POST', body })
 * @publicApi
 */
export const baseUrl = (target: StreamTarget): string => {
  if (typeof target === 'string') return target.replace(/\/$/, '');
  const server = target.getHttpServer() as { address(): AddressInfo | string | null };
  const address = server.address();
  if (!address || typeof address === 'string') {
    throw new Error('The application is not listening: call `await app.listen(0)` first.');
  }
  return `http://127.0.0.1:${address.port}`;
};

type Sink<T> = (
  chunk: string,
  push: (item: T) => void,
  meta: { comments: string[]; retries: number[] },
) => void;

const read = <T>(
  target: StreamTarget,
  path: string,
  options: StreamReadOptions<T>,
  accept: string,
  makeSink: () => Sink<T>,
): Promise<StreamReadResult<T>> =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const result: StreamReadResult<T> = {
      status: 0,
      headers: {},
      items: [],
      arrivals: [],
      comments: [],
      retries: [],
      ended: false,
    };
    const body =
      options.body === undefined
        ? undefined
        : typeof options.body === 'string'
          ? options.body
          : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept, ...options.headers };
    if (body !== undefined && !Object.keys(headers).some(h => h.toLowerCase() === 'content-type')) {
      headers['content-type'] = 'application/json';
    }
    let done = false;
    let response: IncomingMessage | undefined;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      response?.destroy();
      if (err) reject(err);
      else resolve(result);
    };
    const timer = setTimeout(
      () =>
        finish(
          new Error(
            `Timed out after ${options.timeoutMs ?? 5000} ms reading ${path}: got ${result.items.length} item(s) (status ${result.status}).`,
          ),
        ),
      options.timeoutMs ?? 5000,
    );
    const req = httpRequest(
      `${baseUrl(target)}${path}`,
      { method: options.method ?? 'GET', headers },
      res => {
        response = res;
        result.status = res.statusCode ?? 0;
        result.headers = res.headers;
        const sink = makeSink();
        const push = (item: T): void => {
          if (done) return;
          result.items.push(item);
          result.arrivals.push(Date.now() - started);
          if (
            (options.count !== undefined && result.items.length >= options.count) ||
            (options.until !== undefined && options.until(item, result.items))
          ) {
            finish();
          }
        };
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => sink(chunk, push, result));
        res.on('end', () => {
          result.ended = true;
          finish();
        });
        res.on('error', () => finish());
        res.on('aborted', () => finish());
      },
    );
    req.on('error', err => finish(err));
    req.end(body);
  });

/**
 * Reads Server-Sent Events from a route until `count`/`until` is reached or the server ends the
 * stream, then closes the connection. Parsing goes through `eventsource-parser`.
 * @example const { items } = await readSse(app, '/clock', { count: 2 });
 * @publicApi
 */
export const readSse = (
  target: StreamTarget,
  path: string,
  options: StreamReadOptions<ParsedSseEvent> = {},
) =>
  read<ParsedSseEvent>(target, path, options, 'text/event-stream', () => {
    let push: (item: ParsedSseEvent) => void = () => undefined;
    let meta: { comments: string[]; retries: number[] } = { comments: [], retries: [] };
    const parser = createParser({
      onEvent: e => push(toParsed(e)),
      onComment: c => meta.comments.push(c),
      onRetry: r => meta.retries.push(r),
    });
    return (chunk, p, m) => {
      push = p;
      meta = m;
      parser.feed(chunk);
    };
  });

/**
 * Reads NDJSON lines (parsed with `JSON.parse`) from a route until `count`/`until` or the end.
 * @example const { items } = await readNdjson(app, '/export', { count: 100 });
 * @publicApi
 */
export const readNdjson = <T = unknown>(
  target: StreamTarget,
  path: string,
  options: StreamReadOptions<T> = {},
) =>
  read<T>(target, path, options, 'application/x-ndjson', () => {
    let buffered = '';
    return (chunk, push) => {
      buffered += chunk;
      let newline: number;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line !== '') push(JSON.parse(line) as T);
      }
    };
  });

/**
 * Reads text chunks as they arrive until `count`/`until` or the end.
 * @publicApi
 */
export const readText = (
  target: StreamTarget,
  path: string,
  options: StreamReadOptions<string> = {},
) => read<string>(target, path, options, 'text/plain', () => (chunk, push) => push(chunk));
