import type { FlushControlPlane, FlushLease } from '../broadcast/flush-control-plane.interface.js';
import { controlArgs } from '../broadcast/flush-control-plane.rules.js';
import {
  CONTROL_BROADCAST_SCRIPT,
  LEASE_ACQUIRE_SCRIPT,
  LEASE_COUNT_SCRIPT,
  LEASE_RELEASE_SCRIPT,
  LEASE_RENEW_SCRIPT,
  SHARDED_CONTROL_BROADCAST_SCRIPT,
  VALUE_PUT_SCRIPT,
  VALUE_TAKE_SCRIPT,
} from './redis-control.scripts.js';
import type { RedisConnections } from './redis-connections.js';
import type { RedisSubscriptions } from './redis-subscriptions.js';
import { RedisFlushTransportError, toTransportError } from './redis-transport.error.js';
import { runScript, type LuaScript } from './redis.scripts.js';

/** What the control plane takes from its transport. @internal */
export interface RedisControlPlaneSettings {
  readonly keyPrefix: string;
  readonly commandTimeoutMs: number;
  /** A Redis Cluster: the control channel is a shard channel (SPUBLISH / SSUBSCRIBE). */
  readonly cluster: boolean;
}

/**
 * The control plane of a RedisFlushTransport, on the transport's two connections: commands on
 * the publisher, the control channel on the subscriber (re-subscribed after a reconnect, like
 * the hub channels, so listeners survive a Redis restart). Every command is one Lua script on
 * one key, bounded by `commandTimeoutMs`; while Redis is away every call rejects at once with a
 * `RedisFlushTransportError` (`unavailable: true`).
 *
 * Keys (`<prefix>` is the transport's `keyPrefix`; `#` cannot occur in a channel name, so they
 * never meet a channel's stream or Pub/Sub channel):
 * - `<prefix>#control`: the Pub/Sub channel of `broadcast()` / `listen()`.
 * - `<prefix>#lease:<key>`: a sorted set per lease key, member = holder, score = lapse time in
 *   ms on the Redis clock; the key expires (`PEXPIREAT`) with its latest lease.
 * - `<prefix>#once:<id>`: a single-use value (`SET … PX ttl NX`, taken with `GETDEL`,
 *   Redis >= 6.2).
 *
 * No hash tags: every script touches one key, so each is a single-slot command on a Redis
 * Cluster as it is, and a shared tag would put every lease and ticket on one node. On a cluster
 * the control channel is a shard channel (`SPUBLISH` in the broadcast script on its own key,
 * `SSUBSCRIBE` on every instance), so it lives on the shard of its slot.
 * @internal
 */
export class RedisFlushControlPlane implements FlushControlPlane {
  constructor(
    private readonly connections: RedisConnections,
    private readonly subscriptions: RedisSubscriptions,
    private readonly settings: RedisControlPlaneSettings,
  ) {}

  /** The Pub/Sub channel of control messages. */
  get channel(): string {
    return `${this.settings.keyPrefix}#control`;
  }

  async broadcast(message: string): Promise<void> {
    controlArgs.message('broadcast', message);
    const script = this.settings.cluster
      ? SHARDED_CONTROL_BROADCAST_SCRIPT
      : CONTROL_BROADCAST_SCRIPT;
    await this.command('broadcast a control message', script, this.channel, [message]);
  }

  async listen(listener: (message: string) => void): Promise<() => Promise<void>> {
    if (typeof listener !== 'function')
      throw new TypeError('FlushControlPlane.listen() needs a function.');
    const { sub } = await this.connections.connection('listen to control messages');
    this.connections.assertReady(sub, 'listen to control messages');
    return this.subscriptions.add('(control plane)', this.channel, listener, false);
  }

  async acquire(key: string, holder: string, limit: number, ttlMs: number): Promise<boolean> {
    controlArgs.id('acquire', 'key', key);
    controlArgs.id('acquire', 'holder', holder);
    controlArgs.limit('acquire', limit);
    controlArgs.ttl('acquire', ttlMs);
    const reply = await this.command('acquire a lease', LEASE_ACQUIRE_SCRIPT, this.leaseKey(key), [
      holder,
      limit,
      ttlMs,
    ]);
    return Number(reply) === 1;
  }

  async renew(leases: readonly FlushLease[], ttlMs: number): Promise<void> {
    controlArgs.leases('renew', leases);
    controlArgs.ttl('renew', ttlMs);
    const byKey = new Map<string, string[]>();
    for (const { key, holder } of leases) {
      const holders = byKey.get(key);
      if (holders) holders.push(holder);
      else byKey.set(key, [holder]);
    }
    // One script per key, sent back to back (one round trip on the connection).
    await Promise.all(
      [...byKey].map(([key, holders]) =>
        this.command('renew leases', LEASE_RENEW_SCRIPT, this.leaseKey(key), [ttlMs, ...holders]),
      ),
    );
  }

  async release(key: string, holder: string): Promise<void> {
    controlArgs.id('release', 'key', key);
    controlArgs.id('release', 'holder', holder);
    await this.command('release a lease', LEASE_RELEASE_SCRIPT, this.leaseKey(key), [holder]);
  }

  async count(key: string): Promise<number> {
    controlArgs.id('count', 'key', key);
    return Number(await this.command('count leases', LEASE_COUNT_SCRIPT, this.leaseKey(key), []));
  }

  async put(id: string, value: string, ttlMs: number): Promise<void> {
    controlArgs.id('put', 'id', id);
    controlArgs.value('put', value);
    controlArgs.ttl('put', ttlMs);
    const stored = await this.command('store a value', VALUE_PUT_SCRIPT, this.valueKey(id), [
      value,
      ttlMs,
    ]);
    if (Number(stored) !== 1) {
      throw new RedisFlushTransportError(`FlushControlPlane.put(): "${id}" is already stored.`, {
        unavailable: false,
      });
    }
  }

  async take(id: string): Promise<string | undefined> {
    controlArgs.id('take', 'id', id);
    const value = await this.command('take a value', VALUE_TAKE_SCRIPT, this.valueKey(id), []);
    return value === null || value === undefined ? undefined : String(value);
  }

  private leaseKey(key: string): string {
    return `${this.settings.keyPrefix}#lease:${key}`;
  }

  private valueKey(id: string): string {
    return `${this.settings.keyPrefix}#once:${id}`;
  }

  /** One script on the publisher connection, bounded; failures as RedisFlushTransportError. */
  private async command(
    operation: string,
    script: LuaScript,
    key: string,
    args: (string | number)[],
  ): Promise<unknown> {
    const { pub } = await this.connections.connection(operation);
    this.connections.assertReady(pub, operation);
    try {
      return await runScript(pub.client, script, key, args, this.settings.commandTimeoutMs);
    } catch (err) {
      throw toTransportError(`Cannot ${operation}`, err);
    }
  }
}
