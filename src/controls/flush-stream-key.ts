import type { IncomingMessage } from 'node:http';

/**
 * Whose stream a request opens: the key that `maxStreamsPerKey` counts, `hub.disconnect({ key })`
 * ends and `publish(…, { to })` targets. Receives the framework request (express or fastify,
 * with what guards attached: `request.user`). `undefined`: the stream has no key (not counted,
 * not targeted).
 * @publicApi
 */
export type FlushStreamKeyFn = (request: any) => string | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * The default stream key: the client's IP address as the framework reports it (`request.ip`:
 * express honours its `trust proxy` setting, fastify its `trustProxy` option), else the socket's
 * remote address. Behind a reverse proxy, configure the framework to trust it, or every client
 * shares the proxy's address.
 * @publicApi
 */
export const clientIpStreamKey: FlushStreamKeyFn = (request: unknown): string | undefined => {
  const req = request as {
    ip?: unknown;
    raw?: IncomingMessage;
    socket?: { remoteAddress?: string };
  };
  if (typeof req.ip === 'string' && req.ip !== '') return req.ip;
  return (req.raw?.socket ?? req.socket)?.remoteAddress ?? undefined;
};
