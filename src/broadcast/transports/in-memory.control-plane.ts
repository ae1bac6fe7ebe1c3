import { Logger } from '@nestjs/common';
import type { FlushControlPlane, FlushLease } from '../flush-control-plane.interface.js';
import { controlArgs } from '../flush-control-plane.rules.js';

/** How often, at most, lapsed leases and expired values are swept out (on the next write). */
const SWEEP_INTERVAL_MS = 1_000;

/** Milliseconds on a clock that never steps back (leases must not lapse when the wall clock moves). */
const now = (): number => performance.now();

/**
 * The control plane inside one process: what `InMemoryFlushTransport` offers, and what
 * FlushModule uses for a custom transport without a control plane. Nothing crosses instances.
 *
 * No timer per lease or value, and none that outlives it: a lapsed lease or an expired value is
 * ignored when read, and swept out by the next write at most once a second, so memory stays
 * bounded by what is live plus one second's worth. Listeners are called in a microtask, in the
 * order of the broadcasts, so a broadcast never re-enters its caller.
 * @publicApi
 */
export class InMemoryFlushControlPlane implements FlushControlPlane {
  private readonly logger = new Logger('FlushControlPlane');
  private readonly listeners = new Set<(message: string) => void>();
  /** Lease key -> holder -> lapse time. */
  private readonly leases = new Map<string, Map<string, number>>();
  /** Single-use values with their expiry time. */
  private readonly values = new Map<string, { readonly value: string; readonly expires: number }>();
  private lastSweep = now();

  async broadcast(message: string): Promise<void> {
    controlArgs.message('broadcast', message);
    for (const listener of this.listeners) {
      queueMicrotask(() => {
        // Removed after the broadcast was sent: it no longer wants messages.
        if (!this.listeners.has(listener)) return;
        try {
          listener(message);
        } catch (err) {
          this.logger.error(
            `A control-plane listener failed: ${(err as Error)?.message ?? String(err)}`,
          );
        }
      });
    }
  }

  async listen(listener: (message: string) => void): Promise<() => Promise<void>> {
    if (typeof listener !== 'function')
      throw new TypeError('FlushControlPlane.listen() needs a function.');
    // A wrapper gives each registration its own identity, also for the same function twice.
    const entry = (message: string): void => listener(message);
    this.listeners.add(entry);
    return async () => {
      this.listeners.delete(entry);
    };
  }

  async acquire(key: string, holder: string, limit: number, ttlMs: number): Promise<boolean> {
    controlArgs.id('acquire', 'key', key);
    controlArgs.id('acquire', 'holder', holder);
    controlArgs.limit('acquire', limit);
    controlArgs.ttl('acquire', ttlMs);
    const at = this.sweep();
    let holders = this.leases.get(key);
    if (!holders) this.leases.set(key, (holders = new Map<string, number>()));
    const held = holders.get(holder);
    if (held === undefined || held <= at) {
      holders.delete(holder);
      if (this.live(holders, at) >= limit) {
        if (holders.size === 0) this.leases.delete(key);
        return false;
      }
    }
    holders.set(holder, at + ttlMs);
    return true;
  }

  async renew(leases: readonly FlushLease[], ttlMs: number): Promise<void> {
    controlArgs.leases('renew', leases);
    controlArgs.ttl('renew', ttlMs);
    const at = this.sweep();
    for (const { key, holder } of leases) {
      let holders = this.leases.get(key);
      if (!holders) this.leases.set(key, (holders = new Map<string, number>()));
      holders.set(holder, at + ttlMs);
    }
  }

  async release(key: string, holder: string): Promise<void> {
    controlArgs.id('release', 'key', key);
    controlArgs.id('release', 'holder', holder);
    const holders = this.leases.get(key);
    if (!holders) return;
    holders.delete(holder);
    if (holders.size === 0) this.leases.delete(key);
  }

  async count(key: string): Promise<number> {
    controlArgs.id('count', 'key', key);
    const holders = this.leases.get(key);
    return holders ? this.live(holders, now()) : 0;
  }

  async put(id: string, value: string, ttlMs: number): Promise<void> {
    controlArgs.id('put', 'id', id);
    controlArgs.value('put', value);
    controlArgs.ttl('put', ttlMs);
    const at = this.sweep();
    const stored = this.values.get(id);
    if (stored && stored.expires > at)
      throw new Error(`FlushControlPlane.put(): "${id}" is already stored.`);
    this.values.set(id, { value, expires: at + ttlMs });
  }

  async take(id: string): Promise<string | undefined> {
    controlArgs.id('take', 'id', id);
    const stored = this.values.get(id);
    if (!stored) return undefined;
    this.values.delete(id);
    return stored.expires > now() ? stored.value : undefined;
  }

  /** Forgets every lease, value and listener. */
  async close(): Promise<void> {
    this.listeners.clear();
    this.leases.clear();
    this.values.clear();
  }

  /** Live leases among `holders` (lapsed ones are removed on the way). */
  private live(holders: Map<string, number>, at: number): number {
    for (const [holder, lapses] of holders) if (lapses <= at) holders.delete(holder);
    return holders.size;
  }

  /** The current time, after sweeping out what lapsed, at most once per SWEEP_INTERVAL_MS. */
  private sweep(): number {
    const at = now();
    if (at - this.lastSweep < SWEEP_INTERVAL_MS) return at;
    this.lastSweep = at;
    for (const [id, stored] of this.values) if (stored.expires <= at) this.values.delete(id);
    for (const [key, holders] of this.leases)
      if (this.live(holders, at) === 0) this.leases.delete(key);
    return at;
  }
}
