import type { FlushHistoryOptions } from '../flush-option.rules.js';
import type { FlushControlPlane } from './flush-control-plane.interface.js';

/**
 * An event as a transport stores and delivers it. `data` is already encoded (the text of the
 * SSE `data:` field: a string payload as it is, anything else as JSON), so it is encoded once,
 * by the publishing instance, for every subscriber on every instance.
 * @publicApi
 */
export interface FlushTransportEvent {
  /**
   * Id assigned by the transport: `<milliseconds>-<sequence>` (the Redis Stream entry id
   * format), unique and increasing per channel. Compare with `compareEventIds()`.
   */
  readonly id: string;
  /** Event name, if any. */
  readonly event?: string;
  /** Encoded payload. */
  readonly data: string;
  /**
   * Stream key the event is for (`hub.publish(…, { to })`): only streams of that key receive
   * it, live or on resume. Absent: every subscriber. Transports store it with the event and
   * deliver it with every copy (live and replayed); the hub filters.
   */
  readonly to?: string;
}

/** What `FlushTransport.publish()` is given: the event without its id. @publicApi */
export interface FlushTransportMessage {
  readonly event?: string;
  readonly data: string;
  readonly to?: string;
}

/**
 * How one publish is stored, when it differs from the transport's history settings (optional;
 * FlushHub's runs use it so that a run's history holds the whole run and goes after its end).
 * @publicApi
 */
export interface FlushPublishStorage {
  /**
   * Events kept in the channel's history, in place of the transport's `historySize`; the
   * transport's `historyMaxAgeMs` does not apply to such a channel.
   */
  readonly historySize?: number;
  /**
   * The channel's history is deleted this long (ms) after this publish, unless a later publish
   * sets another time.
   */
  readonly expireMs?: number;
}

/** What a transport answers to a resume request. @publicApi */
export type FlushReplayResult =
  /** Every event after the given id, in order (possibly none). */
  | { readonly status: 'ok'; readonly events: readonly FlushTransportEvent[] }
  /**
   * The id is unknown or older than the retained history: events may have been missed. `lastId`
   * is the newest id the channel has, if any, so the client can resume from there.
   */
  | { readonly status: 'resync'; readonly lastId?: string };

/**
 * A gap in a channel's live delivery, as a transport reports it through `onGap()`: `open` when
 * the subscription is lost, `closed` when live delivery and `replay()` are both back.
 * @publicApi
 */
export type FlushGapState = 'open' | 'closed';

/**
 * Whether a transport rejection means "the backend cannot serve this right now; retry later"
 * (not connected, reconnecting, timed out, closed). A transport marks such errors with
 * `unavailable: true` (as `RedisFlushTransportError` does); FlushHub answers them with a 503 and
 * `retryAfter` (`FlushUnavailableError`) instead of a 500. Any other rejection is a failure.
 * @publicApi
 */
export const isTransportUnavailable = (err: unknown): boolean =>
  typeof err === 'object' &&
  err !== null &&
  (err as { unavailable?: unknown }).unavailable === true;

/** Health of a transport, readable from code. @publicApi */
export interface FlushTransportHealth {
  readonly connected: boolean;
  /**
   * Not connected yet, but still on the first attempt with no error so far: FlushHub lets new
   * streams wait for it (bounded by the transport's connect timeout). Not connected and not
   * `connecting` (never reached, or lost): new streams answer 503 with `Retry-After` at once.
   */
  readonly connecting?: boolean;
  readonly lastError?: string;
  readonly reconnects: number;
}

/**
 * Carries FlushHub events: assigns ids, keeps per-channel history and fans events out to
 * subscribers (in this process for the in-memory default, across instances for Redis).
 * @publicApi
 */
export interface FlushTransport {
  /**
   * Stores the event in the channel's history, fans it out, and resolves to it with its id.
   * Rejects (with `unavailable: true`, see `isTransportUnavailable()`) when the backend cannot
   * take it now.
   */
  publish(
    channel: string,
    event: FlushTransportMessage,
    storage?: FlushPublishStorage,
  ): Promise<FlushTransportEvent>;
  /**
   * Delivers the channel's future events to `listener`, in order, each once. Resolves once the
   * subscription is active (events published after that are delivered) to an unsubscribe function.
   * A FlushHub subscribes once per channel, however many clients listen.
   */
  subscribe(
    channel: string,
    listener: (event: FlushTransportEvent) => void,
  ): Promise<() => Promise<void>>;
  /**
   * Every retained event after `lastEventId`, or `resync` when that id is not retained (always
   * for a string that is not an event id, with the channel's newest id as `lastId`, if any).
   * `'0-0'` asks for the whole channel: `ok` with every event iff the history still starts at
   * the channel's first event (nothing was ever trimmed; a channel without history: `ok`, no
   * events), else `resync` (Redis: needs Redis >= 7 for `entries-added`; older ones resync).
   * Rejects (with `unavailable: true`, see `isTransportUnavailable()`) when the backend cannot
   * answer now.
   */
  replay(channel: string, lastEventId: string): Promise<FlushReplayResult>;
  /**
   * Registers the hub's gap listener: the transport reports every interruption of a channel's
   * live delivery as a pair, per channel with subscribers (optional; a transport that never
   * loses events, like the in-memory one, has none):
   *
   * - `open`, as soon as the subscription is lost (e.g. a connection dropped), before any later
   *   live event of the channel is delivered. From then on the hub holds live events back and
   *   keeps its position: the last event it delivered before the gap.
   * - `closed`, once live delivery is back **and** `replay()` can serve the channel again (a
   *   Redis transport waits for both of its connections, which come back in any order). The hub
   *   then replays from its position, delivers what was missed, then the held events, so
   *   nothing is lost, duplicated or reordered; when the history no longer reaches back that
   *   far, subscribers get a `resync` event instead.
   *
   * A `closed` without an `open` before it is ignored. A listener called with the channel alone
   * (the contract before gaps had states) refills at once from the hub's current position,
   * which is exact only if no live event was delivered after the subscription was lost.
   */
  onGap?(listener: (channel: string, state: FlushGapState) => void): void;
  /**
   * Prepares the transport at bootstrap, before any request (FlushHub awaits it in
   * `onModuleInit`): e.g. loads an optional dependency. A rejection fails the application's
   * startup with its message. It should not wait for a network connection. Optional.
   */
  init?(): Promise<void>;
  /**
   * Receives the module's history options (`historySize`, `historyMaxAgeMs`, defaults applied)
   * once, when `FlushModule` takes the transport, before `init()`. A transport that was given
   * its own history options keeps them; one without history settings leaves this out. Optional.
   */
  useHistoryDefaults?(history: FlushHistoryOptions): void;
  /** Health figures, if the transport has any. */
  health?(): FlushTransportHealth;
  /**
   * The transport's control plane: cross-instance messages, expiring leases and single-use
   * values, used by the stream controls (caps, revocation, tickets) and runs. Optional: without
   * one, FlushModule uses a control plane local to this instance (and says so at bootstrap).
   */
  readonly control?: FlushControlPlane;
  /** Releases connections and timers; called on application shutdown. */
  close?(): Promise<void>;
}

/**
 * Injection token of the transport in use (the one given in options, or the in-memory default).
 * @publicApi
 */
export const FlushTransport = Symbol('FlushTransport');

const EVENT_ID = /^(\d{1,16})-(\d{1,16})$/;

/** The `replay()` position that asks for a channel's whole history. @publicApi */
export const FLUSH_FIRST_EVENT_ID = '0-0';

/** Whether a string has the `<ms>-<seq>` event id shape. @publicApi */
export const isEventId = (id: string): boolean => EVENT_ID.test(id);

/**
 * Compares two event ids of the `<ms>-<seq>` shape: negative, zero or positive.
 * @publicApi
 */
export const compareEventIds = (a: string, b: string): number => {
  const ia = a.indexOf('-');
  const ib = b.indexOf('-');
  const ma = Number(a.slice(0, ia));
  const mb = Number(b.slice(0, ib));
  if (ma !== mb) return ma < mb ? -1 : 1;
  const sa = Number(a.slice(ia + 1));
  const sb = Number(b.slice(ib + 1));
  return sa === sb ? 0 : sa < sb ? -1 : 1;
};
