import type { FlushGapState } from '../broadcast/flush-transport.interface.js';
import type { RedisConnectionEvents, RedisConnections } from './redis-connections.js';
import { RedisShardOwners } from './redis-cluster.js';
import {
  RedisFlushTransportError,
  messageOf,
  noop,
  toTransportError,
  withTimeout,
} from './redis-transport.error.js';
import type { RedisTransportLogger } from './redis-transport.options.js';

/** Receives the Pub/Sub messages of one channel as they arrive (decoding is the caller's). */
type Listener = (message: string) => void;
type GapListener = (channel: string, state: FlushGapState) => void;

/** The local side of one channel: its listeners and the state of its Redis subscription. */
interface ChannelState {
  readonly channel: string;
  readonly key: string;
  /** Whether losing the subscription is reported to the gap listeners (hub channels: yes). */
  readonly gaps: boolean;
  readonly listeners: Set<Listener>;
  /** SUBSCRIBE confirmed and not undone (cleared when the subscriber connection closes). */
  subscribed: boolean;
  /** SUBSCRIBE/UNSUBSCRIBE run one after the other, per channel. */
  queue: Promise<void>;
  pending: number;
}

/**
 * Delay before re-subscribing again the channels whose SUBSCRIBE failed after a reconnect (on a
 * cluster: after a shard was lost, while its replica is being promoted).
 */
const RESUBSCRIBE_RETRY_MS = { single: 1_000, cluster: 250 };

/**
 * The Pub/Sub side of a RedisFlushTransport: local listeners per channel, a Redis subscription
 * for every channel that has any (re-established after a reconnect), delivery of messages, and
 * gap reporting for hub channels: `open` for every such channel with listeners when the
 * subscriber connection drops, `closed` once re-subscribed and both connections are ready again
 * (they come back in any order). The control plane's channel is subscribed the same way, without
 * gap reports.
 * @internal
 */
export class RedisSubscriptions implements RedisConnectionEvents {
  private readonly channels = new Map<string, ChannelState>();
  private readonly gapListeners = new Set<GapListener>();
  /** Channels whose gap was reported `open` and not `closed` yet. */
  private readonly gapsOpen = new Set<ChannelState>();
  /** Re-subscriptions running after a reconnect. */
  private resubscribing = 0;
  private resubscribeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Cluster only: the master each key was subscribed on. */
  private readonly owners: RedisShardOwners | undefined;

  constructor(
    private readonly connections: RedisConnections,
    private readonly logger: RedisTransportLogger,
    private readonly commandTimeoutMs: number,
    cluster = false,
  ) {
    if (cluster) this.owners = new RedisShardOwners(() => this.connections.current?.sub.client);
  }

  /**
   * Adds a listener of `channel` (Redis key `key`), subscribing in Redis if it is the first.
   * `gaps`: report losses of the subscription to the gap listeners.
   */
  async add(
    channel: string,
    key: string,
    listener: Listener,
    gaps = true,
  ): Promise<() => Promise<void>> {
    let state = this.channels.get(key);
    if (!state) {
      state = {
        channel,
        key,
        gaps,
        listeners: new Set(),
        subscribed: false,
        queue: Promise.resolve(),
        pending: 0,
      };
      this.channels.set(key, state);
    }
    const st = state;
    // A wrapper gives each subscription its own identity, also for the same function twice.
    const entry: Listener = message => listener(message);
    st.listeners.add(entry);
    try {
      await this.reconcile(st);
    } catch (err) {
      st.listeners.delete(entry);
      this.reconcile(st).catch(noop);
      throw toTransportError(`Subscribing to channel "${channel}" failed`, err);
    }
    let active = true;
    return async () => {
      if (!active) return;
      active = false;
      st.listeners.delete(entry);
      // Local delivery has stopped already; a failed UNSUBSCRIBE only leaves an idle
      // subscription behind (messages for it are ignored), so it is logged, not thrown.
      await this.reconcile(st).catch((err: unknown) => {
        this.logger.warn(`Unsubscribing from channel "${channel}" failed: ${messageOf(err)}`);
      });
    };
  }

  onGap(listener: GapListener): void {
    this.gapListeners.add(listener);
  }

  /** The Redis keys subscribed now. */
  subscribedKeys(): string[] {
    return [...this.channels.values()].filter(st => st.subscribed).map(st => st.key);
  }

  /** Cancels a pending re-subscription retry. */
  stopRetrying(): void {
    clearTimeout(this.resubscribeTimer);
  }

  /** Forgets every channel and gap listener (after close). */
  clear(): void {
    this.channels.clear();
    this.gapListeners.clear();
    this.gapsOpen.clear();
  }

  subscriptionsLost(): void {
    for (const st of this.channels.values()) st.subscribed = false;
  }

  /** Cluster: the sharded subscriber of a master ended; its channels are subscribed again. */
  nodeLost(nodeKey: string): void {
    if (this.owners) this.lose(this.owners.servedBy(nodeKey));
  }

  /** Cluster: channels whose slot moved to another master (failover, resharding) follow it. */
  slotsRefreshed(): void {
    if (this.owners) this.lose(this.owners.moved());
  }

  /**
   * Some subscriptions are lost while the subscriber as a whole is still up (one shard of a
   * cluster): their gaps open now, they are subscribed again, and the gaps close once they are.
   */
  private lose(keys: string[]): void {
    if (keys.length === 0 || this.connections.closed) return;
    this.logger.warn(
      `Redis Cluster: lost the sharded subscription of ${keys.length} channel(s) (failover or slot move); ` +
        'subscribing again on their new master, then refilling what they missed from the streams.',
    );
    for (const key of keys) {
      this.owners?.forget(key);
      const st = this.channels.get(key);
      if (!st) continue;
      st.subscribed = false;
      if (!st.gaps || st.listeners.size === 0 || this.gapsOpen.has(st)) continue;
      this.gapsOpen.add(st);
      this.reportGap(st, 'open');
    }
    void this.resubscribe();
  }

  /** Reports a gap `open` for every channel with listeners (the subscription is lost). */
  subscriberLost(): void {
    for (const st of this.channels.values()) {
      if (!st.gaps || st.listeners.size === 0 || this.gapsOpen.has(st)) continue;
      this.gapsOpen.add(st);
      this.reportGap(st, 'open');
    }
  }

  /** After the subscriber reconnected: subscribe again, then close the gaps (see ready()). */
  subscriberBack(): void {
    void this.resubscribe();
  }

  private async resubscribe(): Promise<void> {
    clearTimeout(this.resubscribeTimer);
    this.resubscribing++;
    const states = [...this.channels.values()];
    const results = await Promise.allSettled(states.map(st => this.reconcile(st)));
    this.resubscribing--;
    if (this.connections.closed) return;
    const failed = results.filter(r => r.status === 'rejected').length;
    if (failed > 0) {
      const retryMs = RESUBSCRIBE_RETRY_MS[this.owners ? 'cluster' : 'single'];
      if (!this.owners)
        this.logger.warn(
          `Re-subscribing ${failed} channel(s) after a reconnect failed; retrying in ${retryMs} ms.`,
        );
      // Their gaps stay open (FlushHub keeps holding) until the retry succeeds.
      this.resubscribeTimer = setTimeout(() => {
        if (this.connections.current?.sub.client.status === 'ready') void this.resubscribe();
      }, retryMs);
      this.resubscribeTimer.unref?.();
    }
    this.ready();
  }

  /**
   * Once both connections are ready and re-subscribed: ends the outage (logged once) and closes
   * the gaps of the channels subscribed again. The refill reads the streams through the
   * publisher connection, which may come back before or after the subscriber.
   */
  ready(): void {
    if (this.connections.closed || this.resubscribing > 0 || !this.connections.bothReady()) return;
    const due = [...this.gapsOpen].filter(st => st.subscribed || st.listeners.size === 0);
    for (const st of due) this.gapsOpen.delete(st);
    const closing = due.filter(st => st.listeners.size > 0);
    this.connections.endOutage(closing.length);
    for (const st of closing) this.reportGap(st, 'closed');
  }

  message(key: unknown, message: unknown): void {
    if (typeof key !== 'string') return;
    const st = this.channels.get(key);
    if (!st || st.listeners.size === 0) return; // not ours, or being unsubscribed
    const text = String(message);
    for (const listener of [...st.listeners]) {
      try {
        listener(text);
      } catch (err) {
        this.logger.error(`A listener of channel "${st.channel}" failed: ${messageOf(err)}`);
      }
    }
  }

  private reportGap(st: ChannelState, state: FlushGapState): void {
    for (const listener of this.gapListeners) {
      try {
        listener(st.channel, state);
      } catch (err) {
        this.logger.error(`A gap listener failed for channel "${st.channel}": ${messageOf(err)}`);
      }
    }
  }

  /**
   * Brings the Redis subscription of a channel in line with its listeners (subscribed iff it
   * has any). Runs after the channel's previous SUBSCRIBE/UNSUBSCRIBE.
   */
  private reconcile(st: ChannelState): Promise<void> {
    st.pending++;
    const run = async (): Promise<void> => {
      try {
        const sub = this.connections.current?.sub.client;
        const wanted = st.listeners.size > 0 && !this.connections.closed;
        if (wanted && !st.subscribed) {
          if (sub?.status !== 'ready')
            throw new RedisFlushTransportError(this.connections.unavailable('subscribe'));
          await withTimeout(
            this.owners && sub.ssubscribe ? sub.ssubscribe(st.key) : sub.subscribe(st.key),
            this.commandTimeoutMs,
            () => `SUBSCRIBE timed out`,
          );
          st.subscribed = true;
          this.owners?.record(st.key);
        } else if (!wanted && st.subscribed) {
          st.subscribed = false;
          this.owners?.forget(st.key);
          if (sub?.status === 'ready') {
            await withTimeout(
              this.owners && sub.sunsubscribe ? sub.sunsubscribe(st.key) : sub.unsubscribe(st.key),
              this.commandTimeoutMs,
              () => `UNSUBSCRIBE timed out`,
            );
          }
        }
      } finally {
        st.pending--;
        if (
          st.pending === 0 &&
          st.listeners.size === 0 &&
          !st.subscribed &&
          this.channels.get(st.key) === st
        ) {
          this.channels.delete(st.key);
        }
      }
    };
    const done = st.queue.then(run);
    st.queue = done.catch(noop);
    return done;
  }
}
