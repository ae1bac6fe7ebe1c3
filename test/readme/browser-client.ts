// README "The browser client": type-checked by `npm run lint` (tsc); the client's behaviour is
// tested in test/client.e2e-spec.ts (Node) and test/client-browser.e2e-spec.ts (Chromium).
import { FlushClient } from 'nestjs-flush/client';
import type { NewsEvents } from './ecosystem.js';

interface Headline {
  title: string;
  url: string;
}
declare const show: (title: string) => void;
declare const reloadNews: () => void;
declare const hide: (id: string) => void;
declare const setBadge: (state: string, reason?: string) => void;

export const start = () => {
  const client = new FlushClient<{ headline: Headline }>('/news', {
    // A fresh ticket before every connect (or headers: () => ({ authorization: `Bearer ${token}` })).
    ticket: async () => {
      const res = await fetch('/live/ticket', { method: 'POST', credentials: 'include' });
      return ((await res.json()) as { ticket: string }).ticket;
    },
  });
  client.on('headline', headline => show(headline.title)); // headline: Headline
  client.on('resync', () => reloadNews()); // events were missed: refetch, then carry on
  client.on('state', (state, detail) => setBadge(state, detail?.reason));
  return client;
};

export const typedNews = () => {
  // The event map of the server's hub.channel<NewsEvents>('news'), imported for its type only:
  // nothing of the server reaches the browser bundle.
  const news = new FlushClient<NewsEvents>('/news');
  news.on('removed', removed => hide(removed.id)); // removed: { id: string }
  // news.on('deleted', …)                         -> compile error: no such event
  // news.on('headline', (h: { id: string }) => …) -> compile error: not a Headline
  return news;
};

// Not in the README: the payload type is inferred from the event map.
export const typed = (client: FlushClient<{ headline: Headline }>) => {
  client.on('headline', (headline, meta) => {
    const title: string = headline.title;
    const id: string | undefined = meta.id;
    // @ts-expect-error a Headline has no `body`
    const body: unknown = headline.body;
    return [title, id, body];
  });
  // @ts-expect-error a typed client listens to its map's events (and the control events) only
  client.on('message', () => undefined);
  const untyped = new FlushClient('/misc');
  untyped.on('message', data => data); // unknown: any event name
};
