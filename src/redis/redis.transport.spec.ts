import { EventEmitter } from 'node:events';
import { describe, expect, it } from '@jest/globals';
import { recordingLogger } from '../../test/utils/logger.js';
import { waitFor } from '../../test/utils/wait.js';
import type { FlushTransportEvent } from '../broadcast/flush-transport.interface.js';
import type { RedisClientLike } from './redis-client.interface.js';
import { RedisFlushTransport, RedisFlushTransportError } from './redis.transport.js';

// No Redis: client doubles drive the transport's connection lifecycle (the real-Redis suite is
// test/redis-transport-commands.e2e-spec.ts).

/** Lets the fakes' pending callbacks and promise chains run: one turn of the event loop, no fixed time. */
const settle = () => new Promise<void>(resolve => setImmediate(resolve));

/** A client double that can drop and restore its connection on command, as ioredis reports it. */
class FakeClient extends EventEmitter implements RedisClientLike {
  status = 'ready';
  readonly channels = new Set<string>();
  readonly calls: string[] = [];
  connect() {
    return Promise.resolve();
  }
  evalsha() {
    this.calls.push('evalsha');
    return Promise.resolve('5-0');
  }
  eval() {
    this.calls.push('eval');
    return Promise.resolve('5-0');
  }
  subscribe(...channels: string[]) {
    for (const c of channels) this.channels.add(c);
    return Promise.resolve(this.channels.size);
  }
  unsubscribe(...channels: string[]) {
    for (const c of channels) this.channels.delete(c);
    return Promise.resolve(this.channels.size);
  }
  quit() {
    this.calls.push('quit');
    return Promise.resolve('OK');
  }
  disconnect() {
    this.calls.push('disconnect');
  }
  drop() {
    this.status = 'reconnecting';
    this.channels.clear();
    this.emit('close');
    this.emit('error', new Error('connect ECONNREFUSED'));
  }
  restore() {
    this.status = 'ready';
    this.emit('ready');
  }
}

/** A transport on two client doubles, logging to a recorder. */
const withDoubles = () => {
  const pub = new FakeClient();
  const sub = new FakeClient();
  const logger = recordingLogger();
  const transport = new RedisFlushTransport({
    publisher: pub,
    subscriber: sub,
    keyPrefix: 'p:',
    logger,
  });
  return { pub, sub, logger, transport };
};

describe('RedisFlushTransport (client doubles)', () => {
  it('reports a gap open when the subscription is lost, and closed only once re-subscribed and the publisher is back too', async () => {
    const { pub, sub, logger, transport } = withDoubles();
    const gaps: string[] = [];
    transport.onGap((channel, state) => gaps.push(`${channel} ${state}`));
    await transport.subscribe('a', () => undefined);
    await transport.subscribe('b', () => undefined);
    const offC = await transport.subscribe('c', () => undefined);
    await offC();
    expect([...sub.channels].sort()).toEqual(['p:a', 'p:b']);

    pub.drop();
    expect(gaps).toEqual([]); // live delivery goes on without the publisher
    sub.drop();
    // At once, before any later live event: the hub must hold them from here on.
    expect(gaps.sort()).toEqual(['a open', 'b open']);
    gaps.length = 0;
    expect(transport.health()).toEqual({
      connected: false,
      lastError: 'subscriber: connect ECONNREFUSED',
      reconnects: 0,
    });
    // Rejected at once, without sending anything.
    const rejection = await transport.publish('a', { data: 'x' }).catch((err: unknown) => err);
    expect(rejection).toBeInstanceOf(RedisFlushTransportError);
    expect(rejection).toMatchObject({
      unavailable: true,
      message:
        'Cannot publish to channel "a": Redis is not connected (reconnecting); last error: subscriber: connect ECONNREFUSED.',
    });
    await expect(transport.subscribe('d', () => undefined)).rejects.toThrow(
      RedisFlushTransportError,
    );
    expect(pub.calls).toEqual([]);

    sub.restore();
    await waitFor(() => sub.channels.size === 2, 'the re-subscription');
    expect([...sub.channels].sort()).toEqual(['p:a', 'p:b']);
    await settle();
    expect(gaps).toEqual([]); // a refill now would fail: it reads through the publisher

    pub.restore();
    await waitFor(() => gaps.length === 2, 'two closed gaps');
    expect(gaps.sort()).toEqual(['a closed', 'b closed']);
    expect(transport.health()).toEqual({
      connected: true,
      lastError: 'subscriber: connect ECONNREFUSED',
      reconnects: 2,
    });
    expect(logger.lines).toEqual([
      'log: Connected to Redis.',
      'warn: Redis unavailable: lost the publisher connection; reconnecting. ' +
        'Until it is back, publish() and new streams fail with 503 (Retry-After), and live events ' +
        'missed meanwhile are refilled from the streams afterwards (or a resync is sent).',
      expect.stringMatching(
        /^log: Redis available again after \d+ ms \(last error: connect ECONNREFUSED\); refilling what 2 channel\(s\) missed\.$/,
      ),
    ]);
    expect((await transport.publish('a', { data: 'x' })).id).toBe('5-0');

    // The other order: the publisher back first, then the subscriber.
    gaps.length = 0;
    sub.drop();
    pub.drop();
    expect(gaps.sort()).toEqual(['a open', 'b open']);
    pub.restore();
    await settle();
    expect(gaps.sort()).toEqual(['a open', 'b open']);
    sub.restore();
    await waitFor(() => gaps.length === 4, 'two closed gaps');
    expect(gaps.sort()).toEqual(['a closed', 'a open', 'b closed', 'b open']);

    await transport.close();
    // Clients that were passed in stay open; the transport only detaches from them.
    expect(pub.calls).not.toContain('quit');
    expect(sub.calls).not.toContain('quit');
    expect(sub.channels.size).toBe(0);
    expect(sub.listenerCount('message')).toBe(0);
    expect(pub.listenerCount('error')).toBe(0);
  });

  it('ignores malformed Pub/Sub messages and messages of channels it has no listener for', async () => {
    const { sub, logger, transport } = withDoubles();
    const got: FlushTransportEvent[] = [];
    await transport.subscribe('a', e => void got.push(e));
    sub.emit('message', 'p:a', 'not json');
    sub.emit('message', 'p:a', '{"id":"1-0","data":7}');
    sub.emit('message', 'p:other', '{"id":"1-0","data":"x"}');
    sub.emit('message', 'p:a', '{"id":"2-0","event":"e","data":"ok"}');
    expect(got).toEqual([{ id: '2-0', event: 'e', data: 'ok' }]);
    expect(logger.lines.filter(l => l.includes('malformed'))).toHaveLength(2);
    await transport.close();
  });
});
