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

/** Health of a transport, readable from code. @publicApi */
export interface FlushTransportHealth {
  readonly connected: boolean;
  readonly lastError?: string;
  readonly reconnects: number;
}

/**
 * Carries FlushHub events: assigns ids, keeps per-channel history and fans events out to
 * subscribers (in this process for the in-memory default, across instances for Redis).
 * @publicApi
 */
export interface FlushTransport {
  /** Stores the event in the channel's history, fans it out, and resolves to it with its id. */
  publish(channel: string, event: { event?: string; data: string }): Promise<FlushTransportEvent>;
  /**
   * Delivers the channel's future events to `listener`, in order, each once. Resolves once the
   * subscription is active (events published after that are delivered) to an unsubscribe function.
   * A FlushHub subscribes once per channel, however many clients listen.
   */
  subscribe(
    channel: string,
    listener: (event: FlushTransportEvent) => void,
  ): Promise<() => Promise<void>>;
  /** Every retained event after `lastEventId`, or `resync` when that id is not retained. */
  replay(channel: string, lastEventId: string): Promise<FlushReplayResult>;
  /**
   * Called by the hub when subscribers may have missed live events (a transport reconnected):
   * the hub then fills the gap through `replay()`. Optional.
   */
  onGap?(listener: (channel: string) => void): void;
  /** Health figures, if the transport has any. */
  health?(): FlushTransportHealth;
  /** Releases connections and timers; called on application shutdown. */
  close?(): Promise<void>;
}

/**
 * Injection token of the transport in use (the one given in options, or the in-memory default).
 * @publicApi
 */
export const FlushTransport = Symbol('FlushTransport');

const EVENT_ID = /^(\d{1,16})-(\d{1,16})$/;

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
