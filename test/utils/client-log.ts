import {
  FlushClient,
  type FlushClientOptions,
  type FlushStateDetail,
} from '../../src/client/index.js';

/** What a tracked client saw: events (with their name, data and id) and states, in order. */
export interface ClientLog {
  events: { name: string; data: unknown; id?: string }[];
  states: ({ state: string } & Partial<FlushStateDetail>)[];
  tickets: number;
}

/** The control and hub events the tests record (the page's `track()` records the same). */
export const TRACKED_EVENTS = ['message', 'resync', 'expired', 'revoked'];

/**
 * A FlushClient on `url` in Node, recording what it sees as the test page does in the browser;
 * `ticketUrl` (with `channels`) makes it fetch a fresh ticket before every connect.
 */
export const trackClient = (
  url: string,
  options: FlushClientOptions & { ticketUrl?: string; channels?: string[] } = {},
): { client: FlushClient; log: ClientLog } => {
  const log: ClientLog = { events: [], states: [], tickets: 0 };
  const { ticketUrl, channels, ...rest } = options;
  const ticket =
    ticketUrl &&
    (async () => {
      log.tickets++;
      const res = await fetch(ticketUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channels }),
      });
      return ((await res.json()) as { ticket: string }).ticket;
    });
  const client = new FlushClient(url, { ...rest, ...(ticket && { ticket }) });
  for (const name of TRACKED_EVENTS)
    client.on(name, (data, meta) => log.events.push({ name, data, id: meta.id }));
  client.on('state', (state, detail) => log.states.push({ state, ...detail }));
  return { client, log };
};

/** The last state a log recorded. */
export const lastState = (log: ClientLog) => log.states[log.states.length - 1];
