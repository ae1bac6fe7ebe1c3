import type { INestApplication } from '@nestjs/common';
import { EventSource } from 'eventsource';
import { baseUrl } from '../../src/testing/index.js';

/** What a recording EventSource saw: each `message` and `resync` with its type, id and data. */
export interface Received {
  type: string;
  id: string;
  data: string;
}

/**
 * A real EventSource client on `path` of `app`, recording messages and resyncs; `lastEventId`
 * is sent as the Last-Event-ID header, as a reconnect does. `opened` settles on the first open
 * (or rejects on an error before it).
 */
export const recordingEventSource = (app: INestApplication, path: string, lastEventId?: string) => {
  const received: Received[] = [];
  const source = new EventSource(`${baseUrl(app)}${path}`, {
    fetch: (input, init) =>
      fetch(input, {
        ...init,
        headers:
          lastEventId === undefined
            ? init.headers
            : { ...init.headers, 'Last-Event-ID': lastEventId },
      }),
  });
  const push = (e: globalThis.MessageEvent<string>) =>
    void received.push({ type: e.type, id: e.lastEventId, data: e.data });
  source.addEventListener('message', push);
  source.addEventListener('resync', push);
  const opened = new Promise<void>((resolve, reject) => {
    source.addEventListener('open', () => resolve(), { once: true });
    source.addEventListener('error', () => reject(new Error(`EventSource to ${path} failed`)), {
      once: true,
    });
  });
  return { source, received, opened };
};
