import {
  Controller,
  Module,
  Param,
  Sse,
  type INestApplication,
  type MessageEvent,
  type Type,
} from '@nestjs/common';
import type { Observable } from 'rxjs';
import {
  FlushHub,
  FlushMetrics,
  FlushModule,
  InMemoryFlushTransport,
  type FlushReplayResult,
  type FlushTransportEvent,
} from '../src/index.js';
import { readSse, type ParsedSseEvent } from '../src/testing/index.js';
import { subscribers } from './utils/hub.js';
import { platforms, startApp } from './utils/platforms.js';
import { waitFor } from './utils/wait.js';

/**
 * The in-memory transport with a subscription that can be lost: while `lost`, live events are
 * stored but not delivered, as a dropped Redis subscriber connection would; gaps are reported the
 * way the FlushTransport contract says. Replays can be made to fail (an unreachable backend).
 */
type GapState = 'open' | 'closed';

class LossyTransport extends InMemoryFlushTransport {
  lost = false;
  failReplays = false;
  failedReplays = 0;
  private gapListener: ((channel: string, state: GapState) => void) | undefined;

  override subscribe(channel: string, listener: (event: FlushTransportEvent) => void) {
    return super.subscribe(channel, event => {
      if (!this.lost) listener(event);
    });
  }

  override replay(channel: string, lastEventId: string): Promise<FlushReplayResult> {
    if (this.failReplays) {
      this.failedReplays++;
      return Promise.reject(Object.assign(new Error('backend down'), { unavailable: true }));
    }
    return super.replay(channel, lastEventId);
  }

  onGap(listener: (channel: string, state: GapState) => void): void {
    this.gapListener = listener;
  }

  loseSubscription(channel: string): void {
    this.lost = true;
    this.gapListener?.(channel, 'open');
  }

  restoreSubscription(): void {
    this.lost = false;
  }

  closeGap(channel: string): void {
    this.gapListener?.(channel, 'closed');
  }
}

@Controller()
class GapController {
  constructor(private readonly hub: FlushHub) {}

  @Sse('sse/:channel')
  sse(@Param('channel') channel: string): Observable<MessageEvent> {
    return this.hub.stream(channel);
  }
}

const gapModule = (transport: LossyTransport): Type => {
  @Module({
    imports: [FlushModule.forRoot({ heartbeatIntervalMs: false, transport })],
    controllers: [GapController],
  })
  class GapModule {}
  return GapModule;
};

const summary = (items: readonly ParsedSseEvent[]) =>
  items.map(e => (e.event === 'resync' ? `resync@${e.id ?? 'none'}` : e.data));

describe.each(platforms)('FlushHub transport gaps (%s)', platform => {
  let app: INestApplication;
  let hub: FlushHub;
  let transport: LossyTransport;
  beforeEach(async () => {
    transport = new LossyTransport();
    app = await startApp(platform, [gapModule(transport)]);
    hub = app.get(FlushHub);
  });
  afterEach(() => app.close());

  /** Opens a stream and waits for its subscription; `reading` settles at the `until` event. */
  const listen = async (channel: string, until: string) => {
    const reading = readSse(app, `/sse/${channel}`, { until: e => e.data === until });
    await subscribers(app, channel, 1);
    return { reading };
  };

  it('refills a gap that opened before any event was delivered here, from the newest id before subscribing', async () => {
    for (const data of ['old-1', 'old-2']) await hub.publish('quiet', data);
    const { reading } = await listen('quiet', 'after');
    transport.loseSubscription('quiet');
    await hub.publish('quiet', 'missed-1');
    await hub.publish('quiet', 'missed-2');
    transport.restoreSubscription();
    await hub.publish('quiet', 'held');
    transport.closeGap('quiet');
    await hub.publish('quiet', 'after');
    expect(summary((await reading).items)).toEqual(['missed-1', 'missed-2', 'held', 'after']);
  });

  it('sends a resync, never a silent hole, when the refill cannot read the history', async () => {
    const { reading } = await listen('news', 'after');
    for (const data of ['a', 'b']) await hub.publish('news', data);
    transport.loseSubscription('news');
    await hub.publish('news', 'missed');
    transport.restoreSubscription();
    await hub.publish('news', 'held-1');
    const held = await hub.publish('news', 'held-2');
    transport.failReplays = true;
    transport.closeGap('news');
    await waitFor(() => app.get(FlushMetrics).resyncs === 1, 'the resync');
    transport.failReplays = false;
    await hub.publish('news', 'after');
    const { items } = await reading;
    // The resync stands for what was missed and held; its id is the newest of them.
    expect(summary(items)).toEqual(['a', 'b', `resync@${held}`, 'after']);
    expect(JSON.parse(items[2].data)).toMatchObject({ channel: 'news', reason: 'gap' });
  });

  it('keeps holding while a new gap opens during a failed refill, then refills both at once', async () => {
    const { reading } = await listen('twice', 'after');
    await hub.publish('twice', 'a');
    transport.loseSubscription('twice');
    await hub.publish('twice', 'missed-1');
    transport.restoreSubscription();
    await hub.publish('twice', 'held-1');
    transport.failReplays = true;
    transport.closeGap('twice');
    transport.loseSubscription('twice'); // lost again before the refill could read
    await hub.publish('twice', 'missed-2');
    await waitFor(() => transport.failedReplays === 1, 'the failed refill');
    await new Promise(resolve => setImmediate(resolve)); // its rejection has been handled
    expect(app.get(FlushMetrics).resyncs).toBe(0); // nothing given up: the next `closed` refills
    transport.failReplays = false;
    transport.restoreSubscription();
    await hub.publish('twice', 'held-2');
    transport.closeGap('twice');
    await hub.publish('twice', 'after');
    expect(summary((await reading).items)).toEqual([
      'a',
      'missed-1',
      'held-1',
      'missed-2',
      'held-2',
      'after',
    ]);
  });

  it('turns more held events than it keeps (10 000) into one resync, then goes on', async () => {
    const { reading } = await listen('flood', 'after');
    await hub.publish('flood', 'a');
    transport.loseSubscription('flood');
    transport.restoreSubscription();
    let newest = '';
    for (let i = 0; i <= 10_000; i++) newest = await hub.publish('flood', String(i));
    transport.closeGap('flood');
    await hub.publish('flood', 'after');
    expect(summary((await reading).items)).toEqual(['a', `resync@${newest}`, 'after']);
  });
});
