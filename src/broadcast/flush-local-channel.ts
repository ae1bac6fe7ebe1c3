import type { Logger } from '@nestjs/common';
import type { FlushMetrics } from '../flush.metrics.js';
import { FlushHubEvent } from './flush-hub-event.js';
import {
  compareEventIds,
  type FlushGapState,
  type FlushTransport,
  type FlushTransportEvent,
} from './flush-transport.interface.js';

/** How one local subscriber receives a channel's events. @internal */
export type LocalDeliver = (event: FlushHubEvent) => void;

/** What a local channel needs from its hub. @internal */
export interface LocalChannelContext {
  readonly transport: FlushTransport;
  readonly metrics: FlushMetrics;
  readonly logger: Logger;
  readonly resyncEventName: string;
}

/**
 * Live events held per channel while a transport gap is open, at most. One more turns them into a
 * `resync` (as of the newest of them): the history would not reach back that far anyway.
 */
const MAX_HELD_EVENTS = 10_000;

/** A transport event as the hub delivers it. @internal */
export const toHubEvent = (event: FlushTransportEvent): FlushHubEvent =>
  new FlushHubEvent({ id: event.id, data: event.data, type: event.event, to: event.to });

/** The in-band event telling a client that events may have been missed. @internal */
export const resyncEvent = (
  eventName: string,
  channel: string,
  newest: string | undefined,
  lastEventId: string | undefined,
  reason: 'history' | 'gap' | 'cursor',
): FlushHubEvent =>
  new FlushHubEvent({
    // No id at all when the channel has none: an empty `id:` resets the client's Last-Event-ID.
    ...(newest !== undefined && { id: newest }),
    type: eventName,
    data: JSON.stringify({ channel, lastEventId, reason }),
  });

/**
 * The local side of one channel: one transport subscription shared by every local subscriber,
 * fan-out of each event (one object, one lazily built frame, for all of them), and the gap
 * handling that keeps the promise "every event once, in order, or a resync".
 * @internal
 */
export class LocalChannel {
  readonly subscribers = new Set<LocalDeliver>();
  unsubscribe: Promise<() => Promise<void>> | undefined;
  /** Newest id fanned out here: later deliveries must be newer (drops transport echoes). */
  private lastId: string | undefined;
  /**
   * The channel's newest id just before this instance subscribed (transports with gaps only):
   * where a refill starts when no event was delivered here yet. Undefined: empty, or unknown.
   */
  private base: string | undefined;
  /** Live events held back while a gap is open or refilled; undefined while live. */
  private held: FlushTransportEvent[] | undefined;
  /** The transport reported the subscription lost (`open`) and not back yet (`closed`). */
  private gapOpen = false;
  /** A refill is reading the history. */
  private refilling = false;
  /** Another gap closed while a refill ran: refill again when it ends. */
  private refillAgain = false;
  /** The hub let go of this channel (no subscriber left, or shutdown). */
  private closed = false;

  constructor(
    readonly name: string,
    private readonly context: LocalChannelContext,
  ) {}

  /** The hub no longer uses this channel: refills in flight deliver nothing. */
  close(): void {
    this.closed = true;
  }

  /** An event from the transport: delivered, or held while a gap is open. */
  fanOut(event: FlushTransportEvent): void {
    if (!this.held) return this.deliverNewer(event);
    this.held.push(event);
    if (this.held.length > MAX_HELD_EVENTS) {
      // Too many to hold: what was missed before them, and they, become one resync.
      const newest = this.held[this.held.length - 1].id;
      this.held = [];
      this.resyncAll(newest);
    }
  }

  /**
   * Remembers the channel's newest id before the first subscription, so that a gap before any
   * event was delivered here is refilled exactly too. Read before subscribing: every later event
   * is then either delivered live or refilled. Only for transports that report gaps.
   */
  async readBase(): Promise<void> {
    const { transport } = this.context;
    if (!transport.onGap) return;
    try {
      const result = await transport.replay(this.name, '');
      if (result.status === 'resync') this.base = result.lastId;
    } catch {
      // Unknown: a gap before the first delivery then ends in a resync (see refill()).
    }
  }

  /**
   * A gap in live delivery (see `FlushTransport.onGap`): from `open` on, live events are held and
   * the position stays where the last delivered event left it; on `closed` the channel refills
   * from there. A report with no state (older transports) refills at once.
   */
  onGap(state: FlushGapState | undefined): void {
    if (state === 'open') {
      this.gapOpen = true;
      this.held ??= [];
      return;
    }
    if (state === 'closed') {
      if (!this.gapOpen) return;
      this.gapOpen = false;
    } else {
      this.held ??= [];
    }
    this.refill();
  }

  /** Delivers an event unless an equal or newer one went out already (transport echoes, refills). */
  private deliverNewer(event: FlushTransportEvent): void {
    if (this.lastId !== undefined && compareEventIds(event.id, this.lastId) <= 0) return;
    this.lastId = event.id;
    this.deliverAll(toHubEvent(event));
    // Once per event and instance, after every local writer took it (not for resync notices).
    this.context.metrics.fannedOut(event.id);
  }

  private deliverAll(event: FlushHubEvent): void {
    // One object (and one lazily built frame) for every local subscriber.
    for (const deliver of this.subscribers) deliver(event);
  }

  /** Replays what local subscribers missed in a gap, then the held live events, in order. */
  private refill(): void {
    if (this.refilling) {
      this.refillAgain = true;
      return;
    }
    this.refilling = true;
    const from = this.lastId ?? this.base;
    // Without a position, a non-id asks only for the channel's newest id (see FlushTransport.replay).
    let failed = false;
    this.context.transport
      .replay(this.name, from ?? '')
      .then(result => {
        if (this.closed) return;
        if (result.status === 'ok') {
          for (const event of result.events) this.deliverNewer(event);
        } else if (from !== undefined || result.lastId !== undefined) {
          // Events may have been missed (history too short, or no position to replay from).
          this.resyncAll(result.lastId, from);
        }
      })
      .catch((err: unknown) => {
        failed = true;
        if (this.closed || this.refillAgain || this.gapOpen) return; // retried on the next `closed`
        // The transport called the gap closed, yet cannot read: say so rather than leave a hole.
        this.context.logger.warn(
          `Refilling "${this.name}" after a transport gap failed (${(err as Error).message}); sent ${this.context.resyncEventName}.`,
        );
        const held = this.held ?? [];
        const newest = held.length > 0 ? held[held.length - 1].id : undefined;
        this.held = [];
        this.resyncAll(newest, from);
      })
      .finally(() => {
        this.refilling = false;
        if (this.closed) return;
        if (this.refillAgain) {
          this.refillAgain = false;
          return this.refill();
        }
        // After a failed read with a new gap open, nothing missed was delivered yet: keep holding.
        if (failed && this.gapOpen) return;
        const held = this.held ?? [];
        // Held events are contiguous up to a gap that opened meanwhile: they go out, and the
        // next refill starts after them.
        this.held = this.gapOpen ? [] : undefined;
        for (const event of held) this.deliverNewer(event);
      });
  }

  /** Tells every local subscriber that events may have been missed; `newest` becomes the position. */
  private resyncAll(newest: string | undefined, from: string | undefined = this.lastId): void {
    this.context.metrics.resyncs++;
    if (
      newest !== undefined &&
      (this.lastId === undefined || compareEventIds(newest, this.lastId) > 0)
    )
      this.lastId = newest;
    this.deliverAll(resyncEvent(this.context.resyncEventName, this.name, newest, from, 'gap'));
  }
}
