import { request, type IncomingHttpHeaders } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { baseUrl } from '../../src/testing/index.js';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
  /** Arrival time (ms since request) of each chunk, and the chunk. */
  chunks: { at: number; data: Buffer }[];
  /** Whether the body ended cleanly (terminating chunk) rather than the socket closing. */
  complete: boolean;
}

/** A byte-level request with raw node:http: every chunk with its arrival time. */
export const rawRequest = (
  app: INestApplication | string,
  path: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    stopAfterMs?: number;
    stopAfterBytes?: number;
    /**
     * Called with the body so far after each chunk, to wait on what has arrived mid-stream; the
     * read stops (incomplete) once it returns true.
     */
    onData?: (bodySoFar: string) => boolean | void;
  } = {},
): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const started = Date.now();
    const req = request(
      `${baseUrl(app)}${path}`,
      { method: options.method ?? 'GET', headers: options.headers },
      res => {
        const chunks: { at: number; data: Buffer }[] = [];
        let size = 0;
        let settled = false;
        const done = (complete: boolean) => {
          if (settled) return;
          settled = true;
          clearTimeout(stopTimer);
          const body = Buffer.concat(chunks.map(c => c.data));
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: body.toString('utf8'),
            chunks,
            complete,
          });
          res.destroy();
        };
        const stopTimer =
          options.stopAfterMs !== undefined
            ? setTimeout(() => done(false), options.stopAfterMs)
            : undefined;
        res.on('data', (data: Buffer) => {
          chunks.push({ at: Date.now() - started, data });
          size += data.length;
          if (options.stopAfterBytes !== undefined && size >= options.stopAfterBytes) done(false);
          else if (options.onData?.(Buffer.concat(chunks.map(c => c.data)).toString('utf8')))
            done(false);
        });
        res.on('end', () => done(res.complete));
        res.on('error', () => done(false));
        res.on('close', () => done(res.complete));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });

/** A long-lived request whose body is read as it arrives (streams under test). */
export interface OpenStream {
  /** Status and headers once the response started (status 0 before). */
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  /** The body so far. */
  readonly body: string;
  /** Whether the server ended the body (terminating chunk). */
  readonly ended: boolean;
  /** Settles once the response is over, however it ended. */
  readonly done: Promise<void>;
  /** Resolves once the status line arrived. */
  responded(): Promise<void>;
  /** Drops the connection (a client that leaves). */
  close(): void;
}

/** Opens `path` and keeps reading it until the server ends it or `close()` is called. */
export const openStream = (
  app: INestApplication | string,
  path: string,
  headers: Record<string, string> = {},
): OpenStream => {
  const state = { status: 0, headers: {} as IncomingHttpHeaders, body: '', ended: false };
  let settle: () => void = () => undefined;
  const done = new Promise<void>(resolve => (settle = resolve));
  const req = request(`${baseUrl(app)}${path}`, { headers }, res => {
    state.status = res.statusCode ?? 0;
    state.headers = res.headers;
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => (state.body += chunk));
    res.on('end', () => {
      state.ended = res.complete;
      settle();
    });
    res.on('close', settle);
  });
  req.on('error', settle);
  req.end();
  return {
    get status() {
      return state.status;
    },
    get headers() {
      return state.headers;
    },
    get body() {
      return state.body;
    },
    get ended() {
      return state.ended;
    },
    done,
    responded: async () => {
      const end = Date.now() + 5000;
      while (state.status === 0) {
        if (Date.now() > end) throw new Error(`No response to ${path} within 5000 ms`);
        await new Promise(resolve => setTimeout(resolve, 5));
      }
    },
    close: () => req.destroy(),
  };
};
