import type { Logger } from '@nestjs/common';
import type { FlushControlPlane, FlushLease } from '../broadcast/flush-control-plane.interface.js';
import { LEASE_TTL_MS, messageOf } from './flush-run.keys.js';
import { RUN_CONTROL_LOST } from './flush-runs.messages.js';

const idOf = (lease: FlushLease): string => lease.key + '\n' + lease.holder;

/**
 * Every lease this instance holds for runs and attached streams on the control plane, renewed
 * together by one timer that lives only while a lease does.
 * @internal
 */
export class FlushRunLeases {
  private readonly held = new Map<string, FlushLease>();
  private renewTimer: NodeJS.Timeout | undefined;
  private renewFailing = false;

  constructor(
    private readonly control: FlushControlPlane,
    private readonly logger: Logger,
  ) {}

  /** Takes a lease (`limit` holders at most); false when it has no room. Not yet kept renewed. */
  acquire(lease: FlushLease, limit: number): Promise<boolean> {
    return this.control.acquire(lease.key, lease.holder, limit, LEASE_TTL_MS);
  }

  /** Keeps a lease renewed until it is forgotten or released. */
  hold(lease: FlushLease): void {
    this.held.set(idOf(lease), lease);
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      const leases = [...this.held.values()];
      if (leases.length === 0) return;
      this.control.renew(leases, LEASE_TTL_MS).then(
        () => (this.renewFailing = false),
        (err: unknown) => {
          if (this.renewFailing) return;
          this.renewFailing = true;
          this.logger.warn(RUN_CONTROL_LOST('renewing run leases', messageOf(err)));
        },
      );
    }, LEASE_TTL_MS / 3);
    this.renewTimer.unref();
  }

  /** Stops renewing a lease; false when it was not held. No timer outlives the last lease. */
  forget(lease: FlushLease): boolean {
    const held = this.held.delete(idOf(lease));
    if (this.held.size === 0) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
    return held;
  }

  /** Releases a lease on the control plane (held or not); never rejects. */
  release(lease: FlushLease): Promise<void> {
    return this.control.release(lease.key, lease.holder).catch(() => undefined); // lapses on its own
  }

  /** Forgets and releases every lease (shutdown). */
  async releaseAll(): Promise<void> {
    const leases = [...this.held.values()];
    for (const lease of leases) this.forget(lease);
    await Promise.all(leases.map(lease => this.release(lease)));
  }
}
