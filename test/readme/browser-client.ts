// README "The browser client": type-checked by `npm run lint` (tsc); the client's behaviour is
// tested in test/client.e2e-spec.ts (Node) and test/client-browser.e2e-spec.ts (Chromium).
import { FlushClient } from 'nestjs-flush/client';

interface Headline {
  title: string;
  url: string;
}
declare const show: (title: string) => void;
declare const reloadNews: () => void;
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

// Not in the README: the payload type is inferred from the event map.
export const typed = (client: FlushClient<{ headline: Headline }>) => {
  client.on('headline', (headline, meta) => {
    const title: string = headline.title;
    const id: string | undefined = meta.id;
    // @ts-expect-error a Headline has no `body`
    const body: unknown = headline.body;
    return [title, id, body];
  });
  const off = client.on('message', data => data); // unknown: any other event name
  off();
};
