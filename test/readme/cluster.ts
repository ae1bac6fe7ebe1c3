// README "Many instances: one Redis or a Redis Cluster": type-checked by `tsc` (npm run lint).
import { Module } from '@nestjs/common';
import { Cluster } from 'ioredis';
import { FlushModule } from 'nestjs-flush';
import { RedisFlushTransport } from 'nestjs-flush/redis';

// One Redis server (or a primary with replicas behind Sentinel): a URL.
export const single = new RedisFlushTransport({ url: process.env.REDIS_URL });

// A Redis Cluster (Redis >= 7): any of its nodes; the transport discovers the others.
export const cluster = new RedisFlushTransport({
  cluster: [
    { host: '10.0.0.1', port: 6379 },
    { host: '10.0.0.2', port: 6379 },
  ],
  redisOptions: { password: process.env.REDIS_PASSWORD }, // every node connection
});

// Or your own ioredis Cluster clients: the subscriber with sharded subscribers.
const nodes = [{ host: '10.0.0.1', port: 6379 }];
export const own = new RedisFlushTransport({
  publisher: new Cluster(nodes, { enableOfflineQueue: false }),
  subscriber: new Cluster(nodes, { shardedSubscribers: true }),
});

@Module({ imports: [FlushModule.forRoot({ transport: cluster })] })
export class ClusterAppModule {}
