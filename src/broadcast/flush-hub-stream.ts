import { FlushUnavailableError } from './flush-unavailable.error.js';
import { AsyncResource } from 'node:async_hooks';
import type { Logger } from '@nestjs/common';
import type { FlushStreamContext } from '../flush-stream.context.js';
import type { FlushMetrics } from '../flush.metrics.js';
import { encodeData } from '../sse/sse.serializer.js';
import { channelListHash, compactPosition, joinCursor, splitCursor } from './flush-cursor.js';
import { FlushHubEvent } from './flush-hub-event.js';
import { resyncEvent, toHubEvent, type LocalDeliver } from './flush-local-channel.js';
import {
  compareEventIds,
  type FlushReplayResult,
  type FlushTransport,
  type FlushTransportEvent,
} from './flush-transport.interface.js';

/** Name of the first event of a stream opened with a `snapshot` loader. @internal */
export const SNAPSHOT_EVENT = 'snapshot';

/** What one hub stream needs from its hub. @internal */
export interface HubStreamHost {
  readonly transport: FlushTransport;
  readonly metrics: FlushMetrics;
  readonly logger: Logger;
  readonly resyncEventName: string;
  /** Adds a local subscriber of `channel`; resolves once the channel's subscription is active. */
  join(channel: string, deliver: LocalDeliver): Promise<unknown>;
  leave(channel: string, deliver: LocalDeliver): void;
  /** What the subscriber gets for a failure of the hub or the transport (logged there). */
  failure(channels: readonly string[], err: unknown): unknown;
}

/** Where a hub stream pushes: an rxjs Subscriber, or the writer's direct sink. @internal */
export interface HubStreamSink {
  next(event: FlushHubEvent): void;
  error(err: unknown): void;
}

/** One hub stream, as `FlushHub.stream()` validated it. @internal */
export interface HubStreamRequest {
  /** Sorted, without duplicates. More than one: the events' ids are composite cursors. */
  readonly channels: readonly string[];
  readonly lastEventId: string | undefined;
  readonly snapshot: (() => Promise<unknown>) | undefined;
}

/** Where a channel of the stream starts, before anything is read. */
type Start =
  /** Live only (a one-channel stream without Last-Event-ID or snapshot). */
  | { readonly kind: 'live' }
  /** From the client's position in the channel. */
  | { readonly kind: 'resume'; readonly from: string }
  /**
   * From the channel's newest id. `missed`: the client had a position (none in the channel, or a
   * cursor of other channels), so events may have been missed if the channel has any.
   */
  | { readonly kind: 'newest'; readonly missed: string | undefined };

/** One channel of a stream. */
interface Slot {
  readonly channel: string;
  readonly start: Start;
  readonly deliver: LocalDeliver;
  /** Live events of this channel are held until the start is read (false: live). */
  holding: boolean;
  /** The last id delivered in this channel (or where it started). */
  position: string | undefined;
  /** The position as the composite cursor writes it. */
  compact: string;
  /** Live events may repeat what the start delivered: drop those not after `position`. */
  dedupe: boolean;
  /** The channel's label in the metrics (only while an integration labels channels). */
  readonly label: string | undefined;
}

/**
 * Where every channel of a multi-channel stream starts, from the client's composite cursor:
 * a FlushValidationError (400) for a malformed cursor, a fresh start with `missed` for a
 * cursor of another channel list.
 */
const startsOf = (
  channels: readonly string[],
  lastEventId: string | undefined,
  hash: string,
): Start[] => {
  if (lastEventId === undefined) return channels.map(() => ({ kind: 'newest', missed: undefined }));
  const { hash: theirs, positions } = splitCursor(lastEventId);
  if (theirs !== hash || positions.length !== channels.length) {
    return channels.map(() => ({ kind: 'newest', missed: lastEventId }));
  }
  return positions.map(from =>
    from === undefined ? { kind: 'newest', missed: '' } : { kind: 'resume', from },
  );
};

/**
 * Runs one hub stream (one or several channels) into `subscriber`: subscribes to every channel
 * first, holding live events, then reads where each channel starts (replay, newest id), sends
 * the snapshot or the replay, then the held and live events, each once, in each channel's order.
 * Targeted events reach only the stream whose key they name. Returns the teardown.
 * @internal
 */
export const openHubStream = (
  host: HubStreamHost,
  request: HubStreamRequest,
  subscriber: HubStreamSink,
  context: FlushStreamContext | undefined,
): (() => void) => {
  const { channels, lastEventId, snapshot } = request;
  const { metrics, transport } = host;
  const key = context?.key;
  const composite = channels.length > 1;
  const hash = composite ? channelListHash(channels) : '';
  const starts: Start[] = composite
    ? startsOf(channels, lastEventId, hash)
    : [
        lastEventId !== undefined
          ? { kind: 'resume', from: lastEventId }
          : snapshot
            ? { kind: 'newest', missed: undefined }
            : { kind: 'live' },
      ];
  let done = false;
  let loading = false;
  // Live events arrive in the publisher's (or the transport socket's) async context: each is
  // handed on in this subscriber's own (the request's AsyncLocalStorage stores: nestjs-cls,
  // OpenTelemetry), so per-event code never sees another request's context.
  const scope = new AsyncResource('FlushHubStream');

  const cursor = (): string =>
    joinCursor(
      hash,
      slots.map(s => s.compact),
    );

  /** Writes one event of a channel (its position already moved). */
  const out = (slot: Slot, event: FlushHubEvent): void => {
    metrics.countDelivered(slot.label);
    if (!composite) {
      if (context && event.id !== undefined) context.position = event.id;
      subscriber.next(event);
      return;
    }
    if (event.id !== undefined) slot.compact = compactPosition(event.id);
    const id = cursor();
    if (context) context.position = id;
    subscriber.next(new FlushHubEvent({ id, data: event.data, type: event.type }));
  };

  const live = (slot: Slot, event: FlushHubEvent): void => {
    if (event.to !== undefined && event.to !== key) return;
    if (event.id !== undefined) {
      if (slot.dedupe) {
        if (slot.position !== undefined && compareEventIds(event.id, slot.position) <= 0) return;
        slot.dedupe = false;
      }
      slot.position = event.id;
    }
    out(slot, event);
  };

  /** Live events that arrived while the start was read, with their channel, in arrival order. */
  let held: { slot: Slot; event: FlushHubEvent }[] = [];

  const slots: Slot[] = channels.map((channel, i) => {
    const start = starts[i];
    const slot: Slot = {
      channel,
      start,
      deliver: event =>
        slot.holding ? held.push({ slot, event }) : scope.runInAsyncScope(live, null, slot, event),
      holding: start.kind !== 'live',
      position: undefined,
      compact: compactPosition(undefined),
      dedupe: false,
      label: metrics.observer ? metrics.labelOf(channel) : undefined,
    };
    return slot;
  });

  const ready = slots.map(slot => {
    context?.channels.add(slot.channel);
    return host.join(slot.channel, slot.deliver);
  });

  const replayed = (slot: Slot, events: readonly FlushTransportEvent[]): void => {
    for (const event of events) {
      if (event.to !== undefined && event.to !== key) continue;
      slot.position = event.id;
      out(slot, toHubEvent(event));
    }
  };

  /**
   * Every channel goes live: the events held while the start was read go out in the order they
   * arrived (across channels, as a stream already live would have sent them), each filtered by
   * its channel's position.
   */
  const goLive = (): void => {
    for (const slot of slots) {
      if (!slot.holding) continue;
      slot.dedupe = slot.position !== undefined;
      slot.holding = false;
    }
    const waiting = held;
    held = [];
    for (const { slot, event } of waiting) live(slot, event);
  };

  const run = async (): Promise<void> => {
    // While the transport is away (lost, or never reached since startup), a new stream fails at
    // once, also on channels that other streams of this instance still hold open.
    const health = transport.health?.();
    if (health && !health.connected && !health.connecting) throw new FlushUnavailableError();
    await Promise.all(ready);
    if (done || slots.every(s => s.start.kind === 'live')) return;
    const reads = await Promise.all(
      slots.map((s): Promise<FlushReplayResult | undefined> =>
        s.start.kind === 'resume'
          ? transport.replay(s.channel, s.start.from)
          : s.start.kind === 'newest'
            ? // A non-id asks for the channel's newest id only (see FlushTransport.replay).
              transport.replay(s.channel, '')
            : Promise.resolve(undefined),
      ),
    );
    if (done) return;
    // Where each channel stands now, and whether the client may have missed events there.
    const newest = reads.map((r, i) => {
      const start = slots[i].start;
      if (!r) return undefined;
      if (r.status === 'resync') return r.lastId;
      return r.events.length > 0
        ? r.events[r.events.length - 1].id
        : start.kind === 'resume'
          ? start.from
          : undefined;
    });
    const missed = reads.map((r, i) => {
      const start = slots[i].start;
      if (start.kind === 'resume') return r?.status === 'resync';
      return start.kind === 'newest' && start.missed !== undefined && newest[i] !== undefined;
    });
    if (snapshot && (lastEventId === undefined || missed.some(Boolean))) {
      // Everything up to `newest` is in the snapshot: the loader starts after these reads.
      slots.forEach((slot, i) => {
        slot.position = newest[i];
        slot.compact = compactPosition(newest[i]);
      });
      loading = true;
      const data = encodeData(await snapshot());
      loading = false;
      if (done) return;
      const id = composite ? cursor() : slots[0].position;
      if (context && id !== undefined) context.position = id;
      metrics.countDelivered(slots[0].label);
      // No id at all when the channel is empty: an empty `id:` resets the client's Last-Event-ID.
      subscriber.next(
        new FlushHubEvent({ ...(id !== undefined && { id }), type: SNAPSHOT_EVENT, data }),
      );
      goLive();
      return;
    }
    // Every position first: the cursor of the first event sent names every channel.
    slots.forEach((slot, i) => {
      const start = slot.start;
      slot.position = start.kind === 'resume' ? start.from : missed[i] ? undefined : newest[i];
      slot.compact = compactPosition(slot.position);
    });
    slots.forEach((slot, i) => {
      const read = reads[i];
      const start = slot.start;
      if (read?.status === 'ok' && start.kind === 'resume') {
        metrics.replays++;
        replayed(slot, read.events);
      } else if (missed[i]) {
        metrics.resyncs++;
        slot.position = newest[i];
        const from =
          start.kind === 'resume' ? start.from : start.kind === 'newest' ? start.missed : '';
        out(
          slot,
          resyncEvent(
            host.resyncEventName,
            slot.channel,
            newest[i],
            from === '' ? undefined : from,
            start.kind === 'newest' && start.missed ? 'cursor' : 'history',
          ),
        );
      }
    });
    goLive();
  };

  const running = run();
  // The stream's headers wait for its start (subscriptions, replay, snapshot): a transport
  // outage or a failing loader answers with its status before any byte.
  context?.ready.push(running.then(noop, noop));
  running.catch((err: unknown) => {
    // The loader's own failure reaches the route as it is (its status, or an `error` event).
    if (!done) subscriber.error(loading ? err : host.failure(channels, err));
  });

  return () => {
    done = true;
    for (const slot of slots) host.leave(slot.channel, slot.deliver);
  };
};

const noop = (): void => undefined;
