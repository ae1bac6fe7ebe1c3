import { describe } from '@jest/globals';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, REDIS_SERVER } from './redis-server.js';
import { waitFor } from './wait.js';

/** Path of redis-cli (package redis-tools on Debian), which creates the cluster. */
export const REDIS_CLI = process.env.REDIS_CLI ?? '/usr/bin/redis-cli';

const run = promisify(execFile);

/** One redis-server process of the test cluster. */
export interface ClusterNode {
  readonly host: '127.0.0.1';
  readonly port: number;
  process: ChildProcess;
}

/** A local Redis Cluster of redis-server processes, in a temp dir, torn down by `stop()`. */
export interface LocalRedisCluster {
  readonly nodes: readonly ClusterNode[];
  /** `{ host, port }` of every node, as `RedisFlushTransport({ cluster })` takes them. */
  readonly startupNodes: { host: string; port: number }[];
  /** The port of the master serving `key`'s slot now (asked from a live node). */
  masterOf(key: string): Promise<number>;
  /** The ports of the masters now. */
  masters(): Promise<number[]>;
  /** Kills one node the way a crash would (SIGKILL) and waits for it to exit. */
  kill(port: number): Promise<void>;
  /** Waits until every live node reports `cluster_state:ok` and every slot has a live master. */
  waitHealthy(deadlineMs?: number): Promise<void>;
  /** Kills every process and removes the temp dir. */
  stop(): Promise<void>;
}

/**
 * `describe` when redis-server and redis-cli are installed (and REDIS_CLUSTER is not `off`),
 * otherwise `describe.skip` after printing how to run the suite. No REDIS_URL needed: the
 * suite starts its own cluster.
 */
export const describeWithRedisCluster = (suite: string): typeof describe.skip => {
  const missing = [REDIS_SERVER, REDIS_CLI].filter(path => !existsSync(path));
  if (missing.length === 0 && process.env.REDIS_CLUSTER !== 'off') return describe;
  console.warn(
    `${suite} skipped: ` +
      (missing.length > 0
        ? `it starts a local Redis Cluster and needs ${missing.join(' and ')} ` +
          '(apt-get install redis-server redis-tools; or set REDIS_SERVER / REDIS_CLI).'
        : 'REDIS_CLUSTER=off.'),
  );
  return describe.skip;
};

/** Starts one cluster-enabled redis-server; resolves once it accepts connections. */
const startNode = (port: number, dir: string, nodeTimeoutMs: number): Promise<ChildProcess> =>
  new Promise((resolve, reject) => {
    const child = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        String(nodeTimeoutMs),
        '--save',
        '',
        '--appendonly',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on port ${port} did not start:\n${output}`));
    }, 10_000);
    child.once('error', err => {
      clearTimeout(timer);
      reject(err);
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        resolve(child);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  });

const exited = (child: ChildProcess): boolean =>
  child.exitCode !== null || child.signalCode !== null;

const killNode = (child: ChildProcess): Promise<void> =>
  new Promise(resolve => {
    if (exited(child)) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });

/** One command on one node over a short-lived connection. */
const ask = async (port: number, ...args: string[]): Promise<unknown> => {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return await client.call(args[0], ...args.slice(1));
  } finally {
    client.disconnect();
  }
};

/** `CLUSTER SHARDS`, reduced to: the live master's port of each slot range. */
const liveMasters = async (port: number): Promise<{ ranges: number[]; port: number }[]> => {
  const shards = (await ask(port, 'CLUSTER', 'SHARDS')) as unknown[][];
  const result: { ranges: number[]; port: number }[] = [];
  for (const shard of shards) {
    const fields = new Map<string, unknown>();
    for (let i = 0; i < shard.length; i += 2) fields.set(String(shard[i]), shard[i + 1]);
    const ranges = (fields.get('slots') as (string | number)[]).map(Number);
    for (const node of fields.get('nodes') as unknown[][]) {
      const info = new Map<string, unknown>();
      for (let i = 0; i < node.length; i += 2) info.set(String(node[i]), node[i + 1]);
      if (info.get('role') === 'master' && info.get('health') === 'online' && ranges.length > 0)
        result.push({ ranges, port: Number(info.get('port')) });
    }
  }
  return result;
};

/**
 * Starts `masters` masters with one replica each (redis-cli --cluster create ... --cluster-replicas 1)
 * on free local ports in a temp dir, and waits (polling) until the cluster is healthy and every
 * replica is in sync. `nodeTimeoutMs` is `cluster-node-timeout`: how soon a killed master's
 * replica is promoted.
 */
export const startRedisCluster = async (
  options: { masters?: number; nodeTimeoutMs?: number } = {},
): Promise<LocalRedisCluster> => {
  const masterCount = options.masters ?? 3;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1_000;
  const dir = await mkdtemp(join(tmpdir(), 'nestjs-flush-cluster-'));
  const nodes: ClusterNode[] = [];
  const stop = async () => {
    await Promise.all(nodes.map(node => killNode(node.process)));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    while (ports.length < masterCount * 2) {
      const port = await freePort();
      if (!ports.includes(port)) ports.push(port);
    }
    for (const port of ports) {
      const nodeDir = join(dir, String(port));
      await mkdir(nodeDir);
      nodes.push({
        host: '127.0.0.1',
        port,
        process: await startNode(port, nodeDir, nodeTimeoutMs),
      });
    }
    await run(
      REDIS_CLI,
      [
        '--cluster',
        'create',
        ...ports.map(port => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '1',
        '--cluster-yes',
      ],
      { timeout: 60_000 },
    );
  } catch (err) {
    await stop();
    throw err;
  }

  const live = () => nodes.filter(node => !exited(node.process));
  const cluster: LocalRedisCluster = {
    nodes,
    startupNodes: nodes.map(({ host, port }) => ({ host, port })),
    async masterOf(key) {
      const slot = Number(await ask(live()[0].port, 'CLUSTER', 'KEYSLOT', key));
      for (const { ranges, port } of await liveMasters(live()[0].port)) {
        for (let i = 0; i < ranges.length; i += 2)
          if (slot >= ranges[i] && slot <= ranges[i + 1]) return port;
      }
      throw new Error(`no live master serves slot ${slot}`);
    },
    async masters() {
      return (await liveMasters(live()[0].port)).map(m => m.port);
    },
    async kill(port) {
      const node = nodes.find(n => n.port === port);
      if (!node) throw new Error(`no node on port ${port}`);
      await killNode(node.process);
    },
    async waitHealthy(deadlineMs = 30_000) {
      await waitFor(
        async () => {
          for (const node of live()) {
            const info = String(await ask(node.port, 'CLUSTER', 'INFO').catch(() => ''));
            if (!info.includes('cluster_state:ok')) return false;
            if (!info.includes('cluster_slots_ok:16384')) return false;
          }
          // Every replica of a live master in sync (so that a failover can promote it).
          for (const node of live()) {
            const replication = String(await ask(node.port, 'INFO', 'replication'));
            if (
              replication.includes('role:slave') &&
              !replication.includes('master_link_status:up')
            )
              return false;
          }
          const masters = await liveMasters(live()[0].port);
          return masters.length === masterCount;
        },
        'the Redis Cluster to be healthy',
        deadlineMs,
        100,
      );
    },
    stop,
  };
  try {
    await cluster.waitHealthy(60_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return cluster;
};
