import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { FlushHub } from 'nestjs-flush';

export const TICKER_CHANNEL = 'ticker';
export const TICKER_INTERVAL_MS = 1000;

export interface Quote {
  symbol: string;
  price: number;
  /** Change since the previous tick. */
  change: number;
  /** Change since the session opened, in percent. */
  changePct: number;
}

export interface Tick {
  seq: number;
  at: number;
  quotes: Quote[];
}

const OPEN: Record<string, number> = { FLSH: 128.4, NEST: 342.1, RXJS: 57.85, NODE: 214.6 };

/** A fake market: every second, a random walk of a few prices, published to the `ticker` channel. */
@Injectable()
export class TickerService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(TickerService.name);
  private readonly prices = new Map(Object.entries(OPEN));
  private timer: NodeJS.Timeout | undefined;
  private seq = 0;

  constructor(private readonly hub: FlushHub) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.tick(), TICKER_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Moves every price and publishes the tick; resolves to the event id. */
  async tick(): Promise<string | undefined> {
    const quotes: Quote[] = [];
    for (const [symbol, last] of this.prices) {
      const price = round(Math.max(1, last * (1 + (Math.random() - 0.5) * 0.004)));
      this.prices.set(symbol, price);
      quotes.push({
        symbol,
        price,
        change: round(price - last),
        changePct: round(((price - OPEN[symbol]) / OPEN[symbol]) * 100),
      });
    }
    const tick: Tick = { seq: ++this.seq, at: Date.now(), quotes };
    try {
      return await this.hub.publish(TICKER_CHANNEL, tick);
    } catch (err) {
      // A transport outage (Redis down) must not crash the timer: the next tick tries again.
      this.logger.warn(`Publishing tick ${tick.seq} failed: ${(err as Error).message}`);
      return undefined;
    }
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;
