import type {
  FlushPublishStorage,
  FlushTransportEvent,
  FlushTransportMessage,
} from '../broadcast/flush-transport.interface.js';
import { InMemoryFlushTransport } from '../broadcast/transports/in-memory.transport.js';

/**
 * An in-memory transport that records every publish, for assertions in users' tests.
 * @publicApi
 */
export class RecordingFlushTransport extends InMemoryFlushTransport {
  readonly published: { channel: string; event: FlushTransportEvent }[] = [];

  override async publish(
    channel: string,
    message: FlushTransportMessage,
    storage?: FlushPublishStorage,
  ): Promise<FlushTransportEvent> {
    const event = await super.publish(channel, message, storage);
    this.published.push({ channel, event });
    return event;
  }
}
