import type { FlushControlPlane, FlushLease } from '../broadcast/flush-control-plane.interface.js';
import { watchLeaseOf } from './flush-run.keys.js';
import type { FlushRunLeases } from './flush-run.leases.js';
import type { FlushLocalRun } from './flush-run.producer.js';

/**
 * `runUnattendedStopMs`: every stream attached to a run holds a lease `run-watch:<key>` (on
 * every instance), and a timer checks, for the runs of this instance, whether anyone is attached
 * anywhere; a run nobody followed for `stopMs` ends `expired` (`reason: 'unattended'`). With the
 * option off (`false`) it does nothing.
 * @internal
 */
export class FlushRunWatch {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stopMs: number | false,
    private readonly control: FlushControlPlane,
    private readonly leases: FlushRunLeases,
    private readonly runs: () => Iterable<FlushLocalRun>,
  ) {}

  /** An attached stream counts (its lease, kept renewed until `detach`). */
  async attach(lease: FlushLease): Promise<void> {
    if (this.stopMs === false) return;
    await this.leases.acquire(lease, 1_000_000);
    this.leases.hold(lease);
  }

  detach(lease: FlushLease): void {
    if (this.stopMs === false) return;
    if (!this.leases.forget(lease)) return;
    void this.leases.release(lease);
  }

  /** Starts checking the runs of this instance (once a run starts here). */
  arm(): void {
    const stopMs = this.stopMs;
    if (stopMs === false || this.timer) return;
    this.timer = setInterval(
      () => {
        for (const run of this.runs()) {
          this.control.count(watchLeaseOf(run.key)).then(
            attached => {
              const now = Date.now();
              if (attached > 0) run.unattendedSince = undefined;
              else if (run.unattendedSince === undefined) run.unattendedSince = now;
              else if (now - run.unattendedSince >= stopMs)
                run.stopWith({ status: 'expired', reason: 'unattended' });
            },
            () => undefined, // the control plane is away: decide on the next tick
          );
        }
      },
      Math.max(10, Math.min(1_000, Math.floor(stopMs / 4))),
    );
    this.timer.unref();
  }

  /** Stops checking (no run left here, or shutdown). */
  disarm(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
