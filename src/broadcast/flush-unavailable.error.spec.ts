import { createServer, request, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpException, ServiceUnavailableException } from '@nestjs/common';
import {
  errorResponseHeaders,
  FlushUnavailableError,
  setErrorResponseHeaders,
} from './flush-unavailable.error.js';

/** Answers one request on a real node:http server with `answer`, and returns what the client saw. */
const roundTrip = async (
  answer: (res: ServerResponse) => void,
): Promise<{ status: number; headers: IncomingHttpHeaders }> => {
  const server = createServer((_req, res) => answer(res));
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((resolve, reject) => {
      request(`http://127.0.0.1:${port}/`, res => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
      })
        .on('error', reject)
        .end();
    });
  } finally {
    server.closeAllConnections();
    await new Promise(resolve => server.close(resolve));
  }
};

describe('FlushUnavailableError', () => {
  it('is a 503 HttpException whose body says when to retry, with the transport error as cause', () => {
    const cause = new Error('connect ECONNREFUSED');
    const err = new FlushUnavailableError(undefined, { cause });
    expect(err).toBeInstanceOf(ServiceUnavailableException);
    expect(err.getStatus()).toBe(503);
    expect(err.getResponse()).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      message:
        'Live updates are temporarily unavailable (the broadcast transport is reconnecting). Retry in 2 s.',
      retryAfter: 2,
    });
    expect(err.retryAfterSeconds).toBe(2);
    expect(err.cause).toBe(cause);
    expect(err.name).toBe('FlushUnavailableError');
  });

  it('asks for Retry-After on the response, which a node:http response then carries', async () => {
    expect(errorResponseHeaders(new FlushUnavailableError())).toEqual({ 'Retry-After': '2' });
    expect(
      errorResponseHeaders(new FlushUnavailableError('x', { retryAfterSeconds: 1.2 })),
    ).toEqual({ 'Retry-After': '2' });
    // Only 503s that carry retryAfter; nothing for other errors.
    expect(errorResponseHeaders(new ServiceUnavailableException())).toBeUndefined();
    expect(errorResponseHeaders(new HttpException({ retryAfter: 3 }, 500))).toBeUndefined();
    expect(errorResponseHeaders(new Error('x'))).toBeUndefined();

    const seen = await roundTrip(res => {
      expect(setErrorResponseHeaders(res, new FlushUnavailableError())).toBe(true);
      res.statusCode = 503;
      res.end();
    });
    expect(seen.status).toBe(503);
    expect(seen.headers['retry-after']).toBe('2');

    const late = await roundTrip(res => {
      res.writeHead(200).flushHeaders();
      expect(setErrorResponseHeaders(res, new FlushUnavailableError())).toBe(false); // too late: no throw
      res.end();
    });
    expect(late.headers['retry-after']).toBeUndefined();
  });
});
