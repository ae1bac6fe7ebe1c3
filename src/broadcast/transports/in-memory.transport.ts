import {
  compareEventIds,
  FLUSH_FIRST_EVENT_ID,
  isEventId,
  type FlushPublishStorage,
  type FlushReplayResult,
  type FlushTransport,
  type FlushTransportEvent,
  type FlushTransportMessage,
} from '../flush-transport.interface.js';
import { EventIdGenerator } from '../event-id.generator.js';
import { InMemoryFlushControlPlane } from './in-memory.control-plane.js';
import { FlushConfigurationError } from '../../flush.errors.js';
import { INVALID_TRANSPORT_OPTION } from '../../flush.messages.js';
import {
  checkOptions,
  HISTORY_DEFAULTS,
  OPTION_RULES,
  type FlushHistoryOptions,
} from '../../flush-option.rules.js';

const HISTORY_RULES = {
  historySize: OPTION_RULES.historySize,
  historyMaxAgeMs: OPTION_RULES.historyMaxAgeMs,
};

/** Options of the in-memory transport. @publicApi */
export interface InMemoryFlushTransportOptions {
  /** Events kept per channel. @default the module's `historySize` (1000) */
  historySize?: number;
  /** Maximum age of kept events in milliseconds. @default the module's `historyMaxAgeMs` (none) */
  historyMaxAgeMs?: number | false;
}

interface StoredEvent extends FlushTransportEvent {
  readonly at: number;
}

/** The event as delivered: only the fields it has (no `at`, no undefined keys). */
const eventOf = (id: string, message: FlushTransportMessage): FlushTransportEvent => {
  const { event, data, to } = message;
  if (to === undefined) return event === undefined ? { id, data } : { id, event, data };
  return event === undefined ? { id, data, to } : { id, event, data, to };
};

/** A bounded ring of the newest events of one channel. */
class ChannelLog {
  readonly listeners = new Set<(event: FlushTransportEvent) => void>();
  private ring: (StoredEvent | undefined)[] = [];
  private head = 0; // index of the oldest event
  private size = 0;
  /** Id of the newest event that left the ring (resume from it is still exact). */
  evictedThrough: string | undefined;
  lastId: string | undefined;
  /** Published with its own history size (a run): the transport's maximum age does not apply. */
  ageless = false;
  /** Deletes the history at its `expireMs`. */
  expiry: NodeJS.Timeout | undefined;
  /** When the history is deleted (epoch ms) while `expiry` is armed. */
  expiresAt = 0;

  constructor(private capacity: number) {}

  /** A channel with nothing stored yet takes another capacity (a run's history size). */
  ownSize(capacity: number): void {
    this.ageless = true;
    if (this.size === 0 && this.evictedThrough === undefined) this.capacity = capacity;
  }

  /** Forgets the history, as an expired Redis key. */
  clear(): void {
    this.ring = [];
    this.head = 0;
    this.size = 0;
    this.evictedThrough = undefined;
    this.lastId = undefined;
  }

  append(event: StoredEvent): void {
    this.lastId = event.id;
    if (this.capacity === 0) {
      this.evictedThrough = event.id;
      return;
    }
    if (this.size < this.capacity) {
      this.ring[(this.head + this.size) % this.capacity] = event;
      this.size++;
      return;
    }
    this.evictedThrough = this.ring[this.head]!.id;
    this.ring[this.head] = event;
    this.head = (this.head + 1) % this.capacity;
  }

  evictOlderThan(cutoff: number): void {
    while (this.size > 0 && this.at(0).at < cutoff) {
      this.evictedThrough = this.at(0).id;
      this.ring[this.head] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.size--;
    }
  }

  private at(i: number): StoredEvent {
    return this.ring[(this.head + i) % this.capacity]!;
  }

  /** Events after `id`, or undefined when `id` is not the id of a retained (or last evicted) event. */
  after(id: string): FlushTransportEvent[] | undefined {
    if (id === FLUSH_FIRST_EVENT_ID)
      return this.evictedThrough === undefined ? this.slice(0) : undefined;
    if (id === this.lastId) return [];
    if (id === this.evictedThrough) return this.slice(0);
    // Binary search: ids in the ring are increasing.
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const cmp = compareEventIds(this.at(mid).id, id);
      if (cmp === 0) return this.slice(mid + 1);
      if (cmp < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  private slice(from: number): FlushTransportEvent[] {
    const out: FlushTransportEvent[] = [];
    for (let i = from; i < this.size; i++) {
      const stored = this.at(i);
      out.push(eventOf(stored.id, stored));
    }
    return out;
  }

  get idle(): boolean {
    return this.listeners.size === 0 && this.size === 0 && this.expiry === undefined;
  }
}

/**
 * The default FlushHub transport: history and fan-out inside this process. Ids follow the
 * Redis Stream format (`<ms>-<seq>`), so they stay comparable if an app moves to Redis.
 * @publicApi
 */
export class InMemoryFlushTransport implements FlushTransport {
  /** Leases, single-use values and broadcasts inside this process. */
  readonly control = new InMemoryFlushControlPlane();
  private readonly channels = new Map<string, ChannelLog>();
  private readonly ids = new EventIdGenerator();
  private historySize: number;
  private historyMaxAgeMs: number | false;
  private readonly explicit: InMemoryFlushTransportOptions;

  constructor(options: InMemoryFlushTransportOptions = {}) {
    checkOptions(options, HISTORY_RULES, (option, value, expected) => {
      throw new FlushConfigurationError(
        INVALID_TRANSPORT_OPTION('InMemoryFlushTransport', option, value, expected),
      );
    });
    this.explicit = options;
    this.historySize = options.historySize ?? HISTORY_DEFAULTS.historySize;
    this.historyMaxAgeMs = options.historyMaxAgeMs ?? HISTORY_DEFAULTS.historyMaxAgeMs;
  }

  /** Takes the module's history options, except those this transport was given itself. */
  useHistoryDefaults(history: FlushHistoryOptions): void {
    this.historySize = this.explicit.historySize ?? history.historySize;
    this.historyMaxAgeMs = this.explicit.historyMaxAgeMs ?? history.historyMaxAgeMs;
  }

  private log(channel: string, create: true): ChannelLog;
  private log(channel: string, create: false): ChannelLog | undefined;
  private log(channel: string, create: boolean): ChannelLog | undefined {
    let log = this.channels.get(channel);
    if (!log && create) {
      log = new ChannelLog(this.historySize);
      this.channels.set(channel, log);
    }
    return log;
  }

  publish(
    channel: string,
    message: FlushTransportMessage,
    storage: FlushPublishStorage = {},
  ): Promise<FlushTransportEvent> {
    const now = Date.now();
    const id = this.ids.next(now);
    const delivered = eventOf(id, message);
    const log = this.log(channel, true);
    if (storage.historySize !== undefined) log.ownSize(storage.historySize);
    log.append({ ...delivered, at: now });
    if (this.historyMaxAgeMs !== false && !log.ageless)
      log.evictOlderThan(now - this.historyMaxAgeMs);
    if (storage.expireMs !== undefined) this.expire(channel, log, now + storage.expireMs);
    for (const listener of log.listeners) listener(delivered);
    if (log.idle) this.channels.delete(channel);
    return Promise.resolve(delivered);
  }

  subscribe(
    channel: string,
    listener: (event: FlushTransportEvent) => void,
  ): Promise<() => Promise<void>> {
    const log = this.log(channel, true);
    log.listeners.add(listener);
    return Promise.resolve(() => {
      log.listeners.delete(listener);
      if (log.idle && this.channels.get(channel) === log) this.channels.delete(channel);
      return Promise.resolve();
    });
  }

  replay(channel: string, lastEventId: string): Promise<FlushReplayResult> {
    const log = this.log(channel, false);
    if (!log && lastEventId === FLUSH_FIRST_EVENT_ID)
      return Promise.resolve({ status: 'ok', events: [] });
    if (!log || !isEventId(lastEventId)) {
      return Promise.resolve({ status: 'resync', lastId: log?.lastId });
    }
    if (this.historyMaxAgeMs !== false && !log.ageless)
      log.evictOlderThan(Date.now() - this.historyMaxAgeMs);
    const events = log.after(lastEventId);
    return Promise.resolve(
      events ? { status: 'ok', events } : { status: 'resync', lastId: log.lastId },
    );
  }

  /**
   * Deletes the channel's history at `at` (epoch ms); a later publish with `expireMs` moves the
   * deadline. One timer per channel: a run publishes with `expireMs` on every event, so a later
   * deadline is only noted, and the timer re-arms for what is left when it fires.
   */
  private expire(channel: string, log: ChannelLog, at: number): void {
    const later = log.expiry !== undefined && at >= log.expiresAt;
    log.expiresAt = at;
    if (later) return;
    clearTimeout(log.expiry);
    this.armExpiry(channel, log, at - Date.now());
  }

  private armExpiry(channel: string, log: ChannelLog, ms: number): void {
    log.expiry = setTimeout(
      () => {
        const left = log.expiresAt - Date.now();
        if (left > 0) return this.armExpiry(channel, log, left);
        log.expiry = undefined;
        log.clear();
        if (log.idle && this.channels.get(channel) === log) this.channels.delete(channel);
      },
      Math.max(0, ms),
    );
    log.expiry.unref();
  }

  close(): Promise<void> {
    for (const log of this.channels.values()) clearTimeout(log.expiry);
    this.channels.clear();
    return this.control.close();
  }
}
