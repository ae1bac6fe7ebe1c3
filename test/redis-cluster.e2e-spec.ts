// Issue 22 (1, 2): RedisFlushTransport on a real local Redis Cluster (3 masters + 3 replicas,
// started by test/utils/redis-cluster.ts, no REDIS_URL needed). Channels on different masters fan
// out across two Nest instances by sharded Pub/Sub (no PUBLISH anywhere), resume across
// instances, stream caps / revocation / runs work on the cluster; a master killed with SIGKILL
// while publishing: its replica takes over, publishes in the window reject with a 503-class
// FlushUnavailableError and succeed afterwards, and every publish that resolved reached the
// client or is covered by a resync.
import { expect } from '@jest/globals';
import { randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { EventSource } from 'eventsource';
import { Redis } from 'ioredis';
import { compareEventIds, FlushHub, FlushUnavailableError } from '../src/index.js';
import { RedisFlushTransport } from '../src/redis.js';
import { clusterKey } from '../src/redis/redis-cluster.slot.js';
import { channelsInstance } from './fixtures/channels/channels.controller.js';
import { controlsApp, userKey } from './fixtures/controls/controls.controller.js';
import { runsApp, tokenText } from './fixtures/runs/runs.controller.js';
import { openStream, type OpenStream } from './utils/http.js';
import { platforms, startApp } from './utils/platforms.js';
import {
  describeWithRedisCluster,
  startRedisCluster,
  type LocalRedisCluster,
} from './utils/redis-cluster.js';
import { endOf, readRun, runText } from './utils/runs.js';
import { recordingEventSource } from './utils/recording-event-source.js';
import { waitFor } from './utils/wait.js';

const describeCluster = describeWithRedisCluster('The Redis Cluster suite');

const connect = recordingEventSource;

/** Sum of one command's calls (`INFO commandstats`, scripts' inner calls included) per node. */
const callsOf = async (ports: number[], command: string): Promise<Map<number, number>> => {
  const calls = new Map<number, number>();
  for (const port of ports) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
    await client.connect();
    const stats = await client.info('commandstats');
    client.disconnect();
    const match = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(stats);
    calls.set(port, match ? Number(match[1]) : 0);
  }
  return calls;
};

describeCluster('RedisFlushTransport on a Redis Cluster', () => {
  let cluster: LocalRedisCluster;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);

  /** Channel names whose keys (with this prefix) are served by different masters. */
  const channelsOnDistinctMasters = async (prefix: string, count: number) => {
    const byMaster = new Map<number, string>();
    for (let i = 0; byMaster.size < count && i < 200; i++) {
      const channel = `ch-${i}`;
      const master = await cluster.masterOf(clusterKey(prefix, channel));
      if (!byMaster.has(master)) byMaster.set(master, channel);
    }
    return byMaster;
  };

  const transport = (keyPrefix: string) =>
    new RedisFlushTransport({ cluster: cluster.startupNodes, keyPrefix, logger: false });

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    cluster = await startRedisCluster({ nodeTimeoutMs: 1_000 });
  }, 90_000);
  afterAll(async () => {
    process.removeListener('unhandledRejection', onUnhandled);
    await cluster?.stop();
    expect(unhandled).toEqual([]);
  });

  describe.each(platforms)('two instances (%s)', platform => {
    const keyPrefix = `flush-cluster:${randomUUID()}:`;
    let a: INestApplication;
    let b: INestApplication;
    const sources: EventSource[] = [];
    let streams: OpenStream[] = [];

    beforeAll(async () => {
      a = await startApp(platform, [channelsInstance(transport(keyPrefix))]);
      b = await startApp(platform, [channelsInstance(transport(keyPrefix))]);
    });
    afterEach(() => {
      for (const source of sources.splice(0)) source.close();
      for (const stream of streams) stream.close();
      streams = [];
    });
    afterAll(async () => {
      await a?.close();
      await b?.close();
    });

    it('fans out channels of three different masters from B to A by sharded Pub/Sub only, and resumes on B', async () => {
      const byMaster = await channelsOnDistinctMasters(keyPrefix, 3);
      expect(byMaster.size).toBe(3);
      const ports = cluster.nodes.map(n => n.port);
      const publishBefore = await callsOf(ports, 'publish');
      const spublishBefore = await callsOf(ports, 'spublish');

      const clients = [...byMaster.values()].map(channel => ({
        channel,
        ...connect(a, `/sse/${channel}`),
      }));
      sources.push(...clients.map(c => c.source));
      await Promise.all(clients.map(c => c.opened));
      const hubB = b.get(FlushHub);
      // Subscribed once the hub of A delivers: publish until the first event arrives.
      for (const client of clients) {
        await waitFor(
          async () => {
            await hubB.publish(client.channel, { warmup: true });
            return client.received.length > 0;
          },
          `A subscribed to ${client.channel}`,
          10_000,
          50,
        );
      }
      const ids = new Map<string, string[]>();
      for (let n = 0; n < 5; n++)
        for (const { channel } of clients) {
          const id = await hubB.publish(channel, { channel, n });
          ids.set(channel, [...(ids.get(channel) ?? []), id]);
        }
      for (const client of clients) {
        // Warm-up events published while subscribing may still arrive first.
        const events = () => client.received.filter(e => !e.data.includes('warmup'));
        await waitFor(() => events().length === 5, `5 events of ${client.channel} on A`);
        expect(events().map(e => e.id)).toEqual(ids.get(client.channel));
        expect(events().map(e => JSON.parse(e.data) as unknown)).toEqual(
          [0, 1, 2, 3, 4].map(n => ({ channel: client.channel, n })),
        );
      }

      // No PUBLISH on any node; SPUBLISH on each of the three masters.
      const publishAfter = await callsOf(ports, 'publish');
      const spublishAfter = await callsOf(ports, 'spublish');
      for (const port of ports) expect(publishAfter.get(port)).toBe(publishBefore.get(port));
      for (const master of byMaster.keys())
        expect(spublishAfter.get(master)! - spublishBefore.get(master)!).toBeGreaterThanOrEqual(5);

      // Resume across instances: leave A after event 2, publish on A, reconnect to B.
      const [first] = clients;
      first.source.close();
      const missed = [
        await a.get(FlushHub).publish(first.channel, { late: 1 }),
        await a.get(FlushHub).publish(first.channel, { late: 2 }),
      ];
      const resumed = connect(b, `/sse/${first.channel}`, ids.get(first.channel)![4]);
      sources.push(resumed.source);
      await resumed.opened;
      await waitFor(() => resumed.received.length === 2, 'the 2 missed events on B');
      expect(resumed.received.map(e => e.id)).toEqual(missed);
      expect(resumed.received.every(e => e.type === 'message')).toBe(true);
    });

    it('caps streams per key across instances, and disconnect() on one instance revokes streams on the other', async () => {
      const prefix = `flush-cluster-controls:${randomUUID()}:`;
      const controls = (name: string) =>
        startApp(platform, [
          controlsApp({ streamKey: userKey, maxStreamsPerKey: 2, transport: transport(prefix) }),
        ]).then(app => Object.assign(app, { label: name }));
      const [ca, cb] = await Promise.all([controls('a'), controls('b')]);
      try {
        const open = async (app: INestApplication, user: string) => {
          const stream = openStream(app, '/controls/sse/news', { 'x-user': user });
          streams.push(stream);
          await stream.responded();
          return stream;
        };
        const first = await open(ca, 'u1');
        const second = await open(cb, 'u1');
        expect([first.status, second.status]).toEqual([200, 200]);
        const third = await open(ca, 'u1');
        expect(third.status).toBe(429);
        expect((await open(cb, 'u2')).status).toBe(200);

        await cb.get(FlushHub).disconnect({ key: 'u1' });
        await Promise.all([first.done, second.done]);
        expect(first.body).toContain('event: revoked');
        expect(second.body).toContain('event: revoked');
        // The slots are free again, on either instance.
        await waitFor(
          async () => {
            const again = await open(ca, 'u1');
            again.close();
            return again.status === 200;
          },
          'a free slot for u1',
          5_000,
          50,
        );
      } finally {
        await ca.close();
        await cb.close();
      }
    });

    it('runs a producer on one instance and attaches to it from the other', async () => {
      const prefix = `flush-cluster-runs:${randomUUID()}:`;
      const ra = await startApp(platform, [runsApp({ maxRuns: 10, transport: transport(prefix) })]);
      const rb = await startApp(platform, [runsApp({ maxRuns: 10, transport: transport(prefix) })]);
      try {
        const k = `k-${randomUUID()}`;
        const first = await readRun(ra, `/runs/${k}/start?n=40&ms=5`, { stopAfterEvents: 5 });
        expect(runText(first.events)).toBe(tokenText(5));
        const rest = await readRun(rb, `/runs/${k}`, { lastEventId: first.events.at(-1)!.id });
        expect(runText(first.events) + runText(rest.events)).toBe(tokenText(40));
        expect(endOf(rest.events)).toEqual({ status: 'completed' });
        const whole = await readRun(rb, `/runs/${k}`);
        expect(runText(whole.events)).toBe(tokenText(40));
      } finally {
        await ra.close();
        await rb.close();
      }
    });
  });

  it('survives a master killed with SIGKILL while publishing: 503s in the window, nothing lost without a resync', async () => {
    const keyPrefix = `flush-cluster-failover:${randomUUID()}:`;
    // The subscribing instance's warnings show the shard loss it handled (gap, re-subscribe).
    const warnings: string[] = [];
    const logger = {
      log: () => undefined,
      warn: (m: string) => void warnings.push(m),
      error: () => undefined,
    };
    const a = await startApp('express', [
      channelsInstance(
        new RedisFlushTransport({ cluster: cluster.startupNodes, keyPrefix, logger }),
      ),
    ]);
    // The publishing instance bounds every command at 1 s: publishes that ioredis cannot place
    // within it (the master is gone, its replica not promoted yet) reject with a 503.
    const b = await startApp('express', [
      channelsInstance(
        new RedisFlushTransport({
          cluster: cluster.startupNodes,
          keyPrefix,
          commandTimeoutMs: 1_000,
          logger: false,
        }),
      ),
    ]);
    const sources: EventSource[] = [];
    try {
      const byMaster = await channelsOnDistinctMasters(keyPrefix, 3);
      const [victim, channel] = [...byMaster][0];
      const client = connect(a, `/sse/${channel}`);
      sources.push(client.source);
      await client.opened;
      const hubB = b.get(FlushHub);
      await waitFor(
        async () => {
          await hubB.publish(channel, { warmup: true });
          return client.received.length > 0;
        },
        'A subscribed',
        10_000,
        50,
      );

      const resolved: string[] = [];
      const rejected: { at: number; error: unknown }[] = [];
      const resolvedAt: number[] = [];
      let killedAt = 0;
      let publishing = true;
      const publisher = (async () => {
        for (let n = 0; publishing; n++) {
          try {
            resolved.push(await hubB.publish(channel, { n }));
            resolvedAt.push(Date.now());
          } catch (error) {
            rejected.push({ at: Date.now(), error });
          }
          await new Promise(resolve => setTimeout(resolve, 10));
        }
      })();
      try {
        await waitFor(() => resolved.length >= 20, '20 publishes before the kill', 10_000);
        killedAt = Date.now();
        await cluster.kill(victim);
        // The replica is promoted; publishing succeeds again.
        await waitFor(
          () => resolvedAt.filter(t => t > killedAt + 500).length >= 30 && rejected.length > 0,
          '30 publishes resolved after the failover',
          45_000,
          50,
        ).catch((err: Error) => {
          const errors = rejected.slice(-3).map(r => (r.error as Error).message);
          throw new Error(
            `${err.message} (${resolved.length} resolved, ${resolvedAt.filter(t => t > killedAt).length} after the kill, ${rejected.length} rejected; last errors: ${errors.join(' | ')})`,
          );
        });
      } finally {
        publishing = false;
        await publisher;
      }
      await cluster.waitHealthy(30_000);

      const last = resolved[resolved.length - 1];
      await waitFor(
        () => client.received.some(e => compareEventIds(e.id, last) >= 0),
        'the last resolved publish on A',
        15_000,
      );
      const messages = client.received.filter(e => e.type === 'message');
      const resyncs = client.received.filter(e => e.type === 'resync');
      // In order, no duplicates.
      const ids = messages.map(e => e.id);
      expect([...ids].sort(compareEventIds)).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
      // Every resolved publish was delivered, or a later resync covers it.
      const delivered = new Set(ids);
      const lost = resolved.filter(
        id => !delivered.has(id) && !resyncs.some(r => r.id && compareEventIds(r.id, id) >= 0),
      );
      expect(lost).toEqual([]);
      expect(warnings.some(w => w.includes('lost the sharded subscription'))).toBe(true);
      // Publishes in the window rejected with the 503-class error.
      for (const { error } of rejected) {
        expect(error).toBeInstanceOf(FlushUnavailableError);
        expect((error as FlushUnavailableError).getStatus()).toBe(503);
      }
      // The window: from the kill to the first publish resolved after the last rejection (or
      // after the kill, when ioredis' retries absorbed the whole failover).
      const lastRejection = rejected.at(-1)?.at ?? killedAt;
      const firstAfter = resolvedAt.find(t => t > lastRejection)!;
      const slowest = Math.max(...resolvedAt.map((t, i) => (i > 0 ? t - resolvedAt[i - 1] : 0)));
      console.log(
        `Redis Cluster failover: window ${firstAfter - killedAt} ms from SIGKILL to the first ` +
          `publish resolved after the last rejection (longest pause between two resolved ` +
          `publishes ${slowest} ms); ${rejected.length} publish(es) rejected ` +
          `(FlushUnavailableError 503) over ${rejected.length > 0 ? lastRejection - rejected[0].at : 0} ms; ` +
          `${resolved.length} resolved, ${ids.length} delivered, ${resyncs.length} resync(s), ` +
          `${resolved.length - resolved.filter(id => delivered.has(id)).length} resolved not delivered ` +
          `(covered by a resync), ${lost.length} lost without a resync.`,
      );
    } finally {
      for (const source of sources) source.close();
      await a.close();
      await b.close();
    }
  }, 90_000);
});
