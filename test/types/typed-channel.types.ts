// Type tests (compiled by `npm run lint`'s tsc, never run): hub.channel<Events>() checks event
// names and payloads at compile time; each @ts-expect-error line must fail to compile.
import type { MessageEvent } from '@nestjs/common';
import { expectTypeOf } from 'expect-type';
import type { Observable } from 'rxjs';
import type { FlushChannel, FlushChannelEventName, FlushHub } from 'nestjs-flush';

interface Headline {
  title: string;
  url?: string;
}
type NewsEvents = { headline: Headline; removed: { id: string } };

export const typedChannel = async (hub: FlushHub): Promise<void> => {
  const news = hub.channel<NewsEvents>('news');
  expectTypeOf(news).toEqualTypeOf<FlushChannel<NewsEvents>>();
  expectTypeOf<FlushChannelEventName<NewsEvents>>().toEqualTypeOf<'headline' | 'removed'>();

  expectTypeOf(news.publish('headline', { title: 'Hello' })).toEqualTypeOf<Promise<string>>();
  await news.publish('removed', { id: '42' }, { to: 'user-1' });
  expectTypeOf(news.stream({ lastEventId: '1-0' })).toEqualTypeOf<Observable<MessageEvent>>();
  expectTypeOf(news.publish<'removed'>)
    .parameter(1)
    .toEqualTypeOf<{ id: string }>();

  // @ts-expect-error an event name the channel does not have
  await news.publish('deleted', { id: '42' });
  // @ts-expect-error a payload of the wrong shape
  await news.publish('removed', { id: 42 });
  // @ts-expect-error the payload of another event
  await news.publish('headline', { id: '42' });
  // @ts-expect-error a missing required field
  await news.publish('headline', { url: 'https://example.com' });
  // @ts-expect-error the event name is the first argument; `event` is not an option here
  await news.publish('headline', { title: 'x' }, { event: 'removed' });

  // An interface works as the event map too.
  interface OrderEvents {
    shipped: { at: number };
  }
  const orders = hub.channel<OrderEvents>('orders/42');
  await orders.publish('shipped', { at: Date.now() });
  // @ts-expect-error a string where the payload has a number
  await orders.publish('shipped', { at: 'now' });

  // Untyped use is unchanged: any event name, any payload.
  const any = hub.channel('misc');
  await any.publish('whatever', 1);
  await any.publish('else', { nested: [true] });
  await hub.publish('news', { anything: 1 }, { event: 'headline' });
  expectTypeOf(hub.stream('news')).toEqualTypeOf<Observable<MessageEvent>>();
};
