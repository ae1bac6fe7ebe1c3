import type { FlushGapState } from './flush-transport.interface.js';
import { isTransportUnavailable } from './flush-transport.interface.js';
import {
  LocalChannel,
  type LocalChannelContext,
  type LocalDeliver,
} from './flush-local-channel.js';

/**
 * This instance's subscribers, per channel: the first subscriber of a channel subscribes it on
 * the transport, the last one to leave unsubscribes it. @internal
 */
export class LocalChannels {
  private readonly channels = new Map<string, LocalChannel>();

  constructor(private readonly context: LocalChannelContext) {}

  /** Adds a local subscriber; resolves once the channel's transport subscription is active. */
  join(channel: string, deliver: LocalDeliver): Promise<unknown> {
    let ch = this.channels.get(channel);
    if (!ch) {
      ch = new LocalChannel(channel, this.context);
      this.channels.set(channel, ch);
    }
    const local = ch;
    local.subscribers.add(deliver);
    if (!local.unsubscribe) {
      const subscribing = local
        .readBase()
        .then(() => this.context.transport.subscribe(channel, e => local.fanOut(e)));
      local.unsubscribe = subscribing;
      // A failed subscription (transport down) is retried by the next subscriber, not reused.
      subscribing.catch(() => {
        if (local.unsubscribe === subscribing) local.unsubscribe = undefined;
      });
    }
    return local.unsubscribe;
  }

  leave(channel: string, deliver: LocalDeliver): void {
    const ch = this.channels.get(channel);
    if (!ch || !ch.subscribers.delete(deliver) || ch.subscribers.size > 0) return;
    this.channels.delete(channel);
    ch.close();
    const unsubscribe = ch.unsubscribe;
    ch.unsubscribe = undefined;
    unsubscribe
      ?.then(
        off => off(),
        () => undefined, // never subscribed (the transport was away): nothing to undo
      )
      .catch((err: unknown) => {
        // A lost or closed connection took its subscriptions with it: nothing to undo.
        if (isTransportUnavailable(err)) return;
        this.context.logger.warn(`Unsubscribing "${channel}" failed: ${(err as Error).message}`);
      });
  }

  /** A transport's gap report for a channel this instance reads (see `FlushTransport.onGap`). */
  onGap(channel: string, state: FlushGapState): void {
    this.channels.get(channel)?.onGap(state);
  }

  /** Local subscribers per channel. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, ch] of this.channels) out[name] = ch.subscribers.size;
    return out;
  }

  /** Shutdown: every channel is let go (refills in flight deliver nothing). */
  closeAll(): void {
    for (const ch of this.channels.values()) ch.close();
    this.channels.clear();
  }
}
