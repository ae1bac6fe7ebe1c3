import { expect } from '@jest/globals';
import { FlushConfigurationError } from '../flush.errors.js';
import type { RedisClientLike } from './redis-client.interface.js';
import { RedisShardOwners } from './redis-cluster.js';
import { keySlot } from './redis-cluster.slot.js';
import { resolveRedisTransportOptions } from './redis-transport.options.js';
import { RedisFlushTransport } from './redis.transport.js';

// No Redis needed: the cluster options are checked at construction (bootstrap).

const clusterClient = (options: object = {}): RedisClientLike =>
  ({
    isCluster: true,
    options,
    duplicate: () => clusterClient(options),
  }) as unknown as RedisClientLike;

describe('RedisFlushTransport cluster options', () => {
  it.each<[string, object, RegExp]>([
    ['an empty list', { cluster: [] }, /"cluster" must be a non-empty array of startup nodes/],
    ['not a list', { cluster: 'redis://x' }, /non-empty array .*received "redis:\/\/x"/],
    [
      'a node without host',
      { cluster: [{ port: 7000 }] },
      /cluster\[0\] must be \{ host: string, port: number \}/,
    ],
    [
      'a port out of range',
      { cluster: [{ host: 'h', port: 70000 }] },
      /cluster\[0\]\.port must be between 1 and 65535/,
    ],
    [
      'cluster and url',
      { cluster: [{ host: 'h', port: 1 }], url: 'redis://h' },
      /one of \{ cluster \}, \{ url \}/,
    ],
    ['clusterOptions alone', { clusterOptions: {} }, /"clusterOptions" needs "cluster"/],
    [
      'a prefix with braces',
      { cluster: [{ host: 'h', port: 1 }], keyPrefix: '{app}:' },
      /"keyPrefix" must not contain "\{" or "\}"/,
    ],
    [
      'a subscriber Cluster without sharded subscribers',
      { publisher: clusterClient(), subscriber: clusterClient() },
      /new Cluster\(nodes, \{ shardedSubscribers: true \}\)/,
    ],
    [
      'a Cluster and a plain client',
      { publisher: clusterClient(), subscriber: { duplicate: () => undefined } },
      /both be ioredis Cluster clients, or both plain/,
    ],
  ])('fails at bootstrap with what to do: %s', (_case, options, message) => {
    const construct = () => new RedisFlushTransport(options);
    expect(construct).toThrow(FlushConfigurationError);
    expect(construct).toThrow(message);
  });

  it('accepts startup nodes, or Cluster clients whose subscriber has sharded subscribers', () => {
    expect(resolveRedisTransportOptions({ cluster: [{ host: 'h', port: 7000 }] }).cluster).toBe(
      true,
    );
    const publisher = clusterClient();
    const subscriber = clusterClient({ shardedSubscribers: true });
    expect(resolveRedisTransportOptions({ publisher, subscriber }).cluster).toBe(true);
    expect(resolveRedisTransportOptions({ publisher }).cluster).toBe(true);
    expect(resolveRedisTransportOptions({ url: 'redis://h' }).cluster).toBe(false);
  });
});

describe('RedisShardOwners', () => {
  it('tells which subscribed keys moved to another master, or were served by a lost one', () => {
    const slots: string[][] = [];
    const cluster = { slots } as unknown as RedisClientLike;
    const owners = new RedisShardOwners(() => cluster);
    slots[keySlot('{a}')] = ['n1:1', 'r1:1'];
    slots[keySlot('{b}')] = ['n2:1'];
    owners.record('{a}');
    owners.record('{b}');
    expect(owners.moved()).toEqual([]);
    expect(owners.servedBy('n1:1')).toEqual(['{a}']);
    slots[keySlot('{a}')] = ['r1:1']; // the replica was promoted
    expect(owners.moved()).toEqual(['{a}']);
    owners.forget('{a}');
    expect(owners.servedBy('n1:1')).toEqual([]);
  });
});
