import type { FlushControlPlane, FlushLease } from '../flush-control-plane.interface.js';

/**
 * The control plane inside one process (provisional: the lead's stand-in until the full
 * implementation lands). Leases and values lapse lazily, on read.
 * @publicApi
 */
export class InMemoryFlushControlPlane implements FlushControlPlane {
  private readonly listeners = new Set<(message: string) => void>();
  private readonly leases = new Map<string, Map<string, number>>();
  private readonly values = new Map<string, { value: string; until: number }>();

  broadcast(message: string): Promise<void> {
    for (const listener of [...this.listeners]) queueMicrotask(() => listener(message));
    return Promise.resolve();
  }

  listen(listener: (message: string) => void): Promise<() => Promise<void>> {
    this.listeners.add(listener);
    return Promise.resolve(() => {
      this.listeners.delete(listener);
      return Promise.resolve();
    });
  }

  acquire(key: string, holder: string, limit: number, ttlMs: number): Promise<boolean> {
    const held = this.live(key);
    if (!held.has(holder) && held.size >= limit) return Promise.resolve(false);
    held.set(holder, Date.now() + ttlMs);
    this.leases.set(key, held);
    return Promise.resolve(true);
  }

  renew(leases: readonly FlushLease[], ttlMs: number): Promise<void> {
    const until = Date.now() + ttlMs;
    for (const { key, holder } of leases) {
      const held = this.live(key);
      held.set(holder, until);
      this.leases.set(key, held);
    }
    return Promise.resolve();
  }

  release(key: string, holder: string): Promise<void> {
    const held = this.leases.get(key);
    held?.delete(holder);
    if (held?.size === 0) this.leases.delete(key);
    return Promise.resolve();
  }

  count(key: string): Promise<number> {
    return Promise.resolve(this.live(key).size);
  }

  put(id: string, value: string, ttlMs: number): Promise<void> {
    const now = Date.now();
    const existing = this.values.get(id);
    if (existing && existing.until > now)
      return Promise.reject(new Error(`"${id}" is stored already.`));
    this.values.set(id, { value, until: now + ttlMs });
    return Promise.resolve();
  }

  take(id: string): Promise<string | undefined> {
    const stored = this.values.get(id);
    this.values.delete(id);
    return Promise.resolve(stored && stored.until > Date.now() ? stored.value : undefined);
  }

  private live(key: string): Map<string, number> {
    const held = this.leases.get(key) ?? new Map<string, number>();
    const now = Date.now();
    for (const [holder, until] of held) if (until <= now) held.delete(holder);
    return held;
  }
}
