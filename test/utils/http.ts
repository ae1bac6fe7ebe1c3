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
