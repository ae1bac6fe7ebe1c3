// Type tests (compiled by `npm run lint`'s tsc, never run): a FlushClient typed with the event map
// of hub.channel<Events>() (directly or through FlushEventsOf) types each handler's payload, and
// rejects names and payloads the map does not have; each @ts-expect-error line must fail to compile.
import { expectTypeOf } from 'expect-type';
import type { FlushChannel, FlushHub } from 'nestjs-flush';
import {
  FlushClient,
  type FlushClientState,
  type FlushEventMeta,
  type FlushEventsOf,
  type FlushResyncInfo,
  type FlushStateDetail,
} from 'nestjs-flush/client';

interface Headline {
  title: string;
  url?: string;
}
type NewsEvents = { headline: Headline; removed: { id: string } };

/** What a server module exports: the typed channel (the client imports its type only). */
export const newsChannel = (hub: FlushHub) => hub.channel<NewsEvents>('news');

export const typedClient = (): void => {
  // The map of a typed channel, read from the channel's type.
  expectTypeOf<FlushEventsOf<FlushChannel<NewsEvents>>>().toEqualTypeOf<NewsEvents>();
  expectTypeOf<FlushEventsOf<ReturnType<typeof newsChannel>>>().toEqualTypeOf<NewsEvents>();
  expectTypeOf<FlushEventsOf<FlushChannel>>().toEqualTypeOf<Record<string, unknown>>();
  // @ts-expect-error a plain event map is not a channel: use it as FlushClient's type itself
  expectTypeOf<FlushEventsOf<NewsEvents>>().toBeObject();

  const client = new FlushClient<FlushEventsOf<ReturnType<typeof newsChannel>>>('/news');
  expectTypeOf(client).toEqualTypeOf<FlushClient<NewsEvents>>();
  client.on('headline', (headline, meta) => {
    expectTypeOf(headline).toEqualTypeOf<Headline>();
    expectTypeOf(meta).toEqualTypeOf<FlushEventMeta>();
  });
  client.on('removed', removed => expectTypeOf(removed).toEqualTypeOf<{ id: string }>());
  // The server's own events keep their types on a typed client.
  client.on('resync', info => expectTypeOf(info).toEqualTypeOf<FlushResyncInfo>());
  client.on('expired', data => expectTypeOf(data).toEqualTypeOf<{ reason: string }>());
  client.on('revoked', data => expectTypeOf(data).toEqualTypeOf<{ reason: string }>());
  client.on('error', message => expectTypeOf(message).toEqualTypeOf<string>());
  client.on('state', (state, detail) => {
    expectTypeOf(state).toEqualTypeOf<FlushClientState>();
    expectTypeOf(detail).toEqualTypeOf<FlushStateDetail | undefined>();
  });
  expectTypeOf(client.on('headline', () => undefined)).toEqualTypeOf<() => void>();

  // @ts-expect-error an event name the map does not have
  client.on('deleted', () => undefined);
  // @ts-expect-error `message` (events without a name) is not in this map either
  client.on('message', () => undefined);
  // @ts-expect-error the payload of another event
  client.on('headline', (data: { id: string }) => data);
  // @ts-expect-error a Headline has no `body`
  client.on('headline', headline => void headline.body);
  // @ts-expect-error `id` is a string, not a number
  client.on('removed', (removed: { id: number }) => removed);
  // @ts-expect-error the state handler gets a state, not data
  client.on('state', (state: { title: string }) => state);

  // A plain map (an interface too) types the client the same way.
  interface OrderEvents {
    shipped: { at: number };
  }
  const orders = new FlushClient<OrderEvents>('/orders/42');
  orders.on('shipped', ({ at }) => expectTypeOf(at).toEqualTypeOf<number>());
  // @ts-expect-error a string where the payload has a number
  orders.on('shipped', (data: { at: string }) => data);
  // A map that names a control event types it its own way.
  const custom = new FlushClient<{ error: { code: number } }>('/custom');
  custom.on('error', e => expectTypeOf(e).toEqualTypeOf<{ code: number }>());

  // Untyped use: any event name, data unknown; the control events stay typed.
  const any = new FlushClient('/misc');
  any.on('whatever', data => expectTypeOf(data).toEqualTypeOf<unknown>());
  any.on('message', (data, meta) => expectTypeOf(meta.event).toEqualTypeOf<string>());
  any.on('resync', info => expectTypeOf(info).toEqualTypeOf<FlushResyncInfo>());
  const name: string = 'from-somewhere';
  any.on(name, data => expectTypeOf(data).toEqualTypeOf<unknown>());

  // Options are checked too.
  // @ts-expect-error retry delays are numbers of milliseconds
  new FlushClient('/x', { retry: { maxDelayMs: '30s' } });
  // @ts-expect-error no such option
  new FlushClient('/x', { reconnect: true });
};
