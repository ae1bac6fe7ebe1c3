import { clientIpStreamKey, type FlushStreamKeyFn } from 'nestjs-flush';

/**
 * The cookie the page sets once per browser (a random id, shared by all its tabs). EventSource
 * cannot send headers, but it sends cookies: that is how a stream says whose it is.
 */
export const BROWSER_COOKIE = 'flush_demo_browser';

/** What the page writes into the cookie: 16 to 64 URL-safe characters. */
const BROWSER_ID = /^[A-Za-z0-9_-]{16,64}$/;

/** The value of cookie `name` in a `Cookie` header, if present. */
export const readCookie = (header: unknown, name: string): string | undefined => {
  if (typeof header !== 'string') return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
};

/**
 * FlushModule's `streamKey` for the sample: the browser (its cookie), so that
 * `@FlushLimits({ maxStreamsPerKey })` counts the streams of one browser, all tabs together.
 * A client without the cookie (curl) is keyed by its IP address, the library's default.
 */
export const browserStreamKey: FlushStreamKeyFn = (request: {
  headers?: Record<string, unknown>;
}): string | undefined => {
  const id = readCookie(request.headers?.cookie, BROWSER_COOKIE);
  return id !== undefined && BROWSER_ID.test(id) ? `browser:${id}` : clientIpStreamKey(request);
};
