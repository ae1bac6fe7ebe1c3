import {
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { FlushHub } from 'nestjs-flush';

export const ORDERS_CHANNEL = 'orders';
export const ALERTS_CHANNEL = 'alerts';
/** The board's one stream reads both channels (one connection, one composite cursor). */
export const BOARD_CHANNELS = [ORDERS_CHANNEL, ALERTS_CHANNEL];
/** Something happens on the board this often (an order moves on, a new one, an alert). */
export const BOARD_INTERVAL_MS = 4000;

export const ORDER_STATUSES = ['placed', 'packed', 'shipped', 'delivered'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface Order {
  id: number;
  customer: string;
  item: string;
  status: OrderStatus;
  updatedAt: number;
}

export interface Alert {
  level: 'info' | 'warning';
  text: string;
  at: number;
}

/**
 * Every event of a channel carries that channel's revision: 1, 2, 3… in publish order. The page
 * checks that it sees each one once, in order, after the snapshot's.
 */
export interface OrderEvent {
  rev: number;
  order: Order;
}
export interface AlertEvent {
  rev: number;
  alert: Alert;
}

/** What the board stream's `snapshot` event carries: the whole board and where it stands. */
export interface BoardSnapshot {
  orders: Order[];
  /** The newest alerts, newest last. */
  alerts: Alert[];
  /** The revision of each channel included in this snapshot. */
  rev: { orders: number; alerts: number };
  at: number;
}

const CUSTOMERS = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Radia', 'Ken', 'Margaret'];
const ITEMS = ['keyboard', 'monitor', 'headset', 'dock', 'webcam', 'desk lamp', 'chair', 'mouse'];
const KEPT_ORDERS = 8;
const KEPT_ALERTS = 5;

/**
 * An order board kept in memory (a real app reads it from its database): the snapshot of the
 * board stream, and the source of its live events. Every change is applied and published in the
 * same tick. On the in-memory hub the snapshot loader runs right after the hub read the channels'
 * newest ids, so a snapshot never holds a change whose event comes after it; over Redis one can
 * (the hub's documented overlap), and the page skips it by its `rev`.
 * The book lives in this instance: with two instances on Redis, run the board on one.
 */
@Injectable()
export class BoardService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(BoardService.name);
  private readonly orders = new Map<number, Order>();
  private readonly alerts: Alert[] = [];
  private readonly rev = { orders: 0, alerts: 0 };
  private nextOrderId = 1041;
  private timer: NodeJS.Timeout | undefined;
  private turn = 0;

  constructor(private readonly hub: FlushHub) {}

  async onApplicationBootstrap(): Promise<void> {
    // Both channels get an event at once: a cursor then has a position in each of them.
    for (let i = 0; i < 4; i++) await this.createOrder();
    await this.raiseAlert('Board opened: orders and alerts stream on one connection.', 'info');
    this.timer = setInterval(() => void this.step(), BOARD_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The board as it is now (a copy): the stream's snapshot loader. */
  snapshot(): BoardSnapshot {
    return {
      orders: [...this.orders.values()].map(order => ({ ...order })),
      alerts: this.alerts.map(alert => ({ ...alert })),
      rev: { ...this.rev },
      at: Date.now(),
    };
  }

  /** A new order (`order-created` on `orders`); resolves to the event id. */
  createOrder(customer = pick(CUSTOMERS)): Promise<string | undefined> {
    const order: Order = {
      id: this.nextOrderId++,
      customer,
      item: pick(ITEMS),
      status: 'placed',
      updatedAt: Date.now(),
    };
    this.orders.set(order.id, order);
    // The oldest delivered orders leave the board (their rows stay on pages already showing them
    // until the next snapshot).
    for (const old of this.orders.values()) {
      if (this.orders.size <= KEPT_ORDERS) break;
      if (old.status === 'delivered') this.orders.delete(old.id);
    }
    return this.publishOrder('order-created', order);
  }

  /** Moves the oldest undelivered order one status on (`order-updated`), or creates one. */
  advanceOrder(): Promise<string | undefined> {
    const open = [...this.orders.values()].find(order => order.status !== 'delivered');
    if (!open) return this.createOrder();
    open.status = ORDER_STATUSES[ORDER_STATUSES.indexOf(open.status) + 1];
    open.updatedAt = Date.now();
    return this.publishOrder('order-updated', open);
  }

  /** An alert (`alert` on `alerts`); resolves to the event id. */
  raiseAlert(text: string, level: Alert['level'] = 'warning'): Promise<string | undefined> {
    const alert: Alert = { level, text, at: Date.now() };
    this.alerts.push(alert);
    if (this.alerts.length > KEPT_ALERTS) this.alerts.shift();
    const data: AlertEvent = { rev: ++this.rev.alerts, alert: { ...alert } };
    return this.publish(ALERTS_CHANNEL, 'alert', data);
  }

  /** The timer: mostly orders moving on, sometimes a new order or an alert. */
  private step(): Promise<string | undefined> {
    const turn = this.turn++;
    if (turn % 5 === 4) {
      const late = [...this.orders.values()].find(order => order.status === 'placed');
      return this.raiseAlert(
        late
          ? `Order #${late.id} for ${late.customer} is waiting to be packed.`
          : 'Stock of monitors is running low.',
      );
    }
    return turn % 3 === 2 ? this.createOrder() : this.advanceOrder();
  }

  private publishOrder(event: string, order: Order): Promise<string | undefined> {
    const data: OrderEvent = { rev: ++this.rev.orders, order: { ...order } };
    return this.publish(ORDERS_CHANNEL, event, data);
  }

  /**
   * Publishes in the tick of the change (no await before the call); a transport outage (Redis
   * down) is logged, not thrown: the board goes on, and the page's revision check shows the gap.
   */
  private async publish(
    channel: string,
    event: string,
    data: unknown,
  ): Promise<string | undefined> {
    try {
      return await this.hub.publish(channel, data, { event });
    } catch (err) {
      this.logger.warn(`Publishing ${event} on "${channel}" failed: ${(err as Error).message}`);
      return undefined;
    }
  }
}

const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)];
