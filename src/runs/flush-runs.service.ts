import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type MessageEvent,
} from '@nestjs/common';
import { Observable, takeWhile, type Subscription } from 'rxjs';
import { decodeControlMessage, encodeControlMessage } from '../broadcast/flush-control-messages.js';
import type { FlushControlPlane, FlushLease } from '../broadcast/flush-control-plane.interface.js';
import type {
  FlushAttachOptions,
  FlushRunAdmission,
  FlushRunHost,
  FlushRunner,
  FlushRunOptions,
  FlushRunProducer,
} from '../broadcast/flush-runner.interface.js';
import {
  FLUSH_FIRST_EVENT_ID,
  FlushTransport,
  isEventId,
} from '../broadcast/flush-transport.interface.js';
import { FlushUnavailableError } from '../broadcast/flush-unavailable.error.js';
import { FLUSH_CONTROL_PLANE, FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import { FlushMetrics } from '../flush.metrics.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { currentStream } from '../flush-stream.context.js';
import { FlushValidationError } from '../flush-validation.error.js';
import {
  FlushRunConflictError,
  FlushRunEndedError,
  FlushRunNotFoundError,
  FlushTooManyRunsError,
} from './flush-run.errors.js';
import {
  assertRunKey,
  channelOf,
  liveLeaseOf,
  MAX_TTL_MS,
  RUNS_LEASE,
  toHubError,
  watchLeaseOf,
} from './flush-run.keys.js';
import { FlushRunLeases } from './flush-run.leases.js';
import { FlushRunWatch } from './flush-run.watch.js';
import { FLUSH_RUN_END_EVENT, FlushLocalRun, type FlushRunPublish } from './flush-run.producer.js';
import {
  RUN_LAST_EVENT_ID_INVALID,
  RUN_PRODUCER_INVALID,
  RUN_SHUT_DOWN,
  RUN_TTL_INVALID,
} from './flush-runs.messages.js';

export { FLUSH_RUN_END_EVENT, type FlushRunEnd } from './flush-run.producer.js';

/** How long shutdown waits for the runs of this instance to publish their `end`. */
const SHUTDOWN_WAIT_MS = 5_000;

/**
 * The runs of this instance (`hub.run()`, `attach()`, `cancel()`): a run is the hub channel
 * `run:<key>` whose history holds the whole run (the transport's per-publish storage), a lease
 * `run:<key>` on the control plane while its producer lives (one per key across instances), a
 * lease in `runs` (`maxRuns`), and `cancel` messages through the control plane. The producer of
 * a local run lives in `FlushLocalRun`; the leases in `FlushRunLeases`.
 * @internal
 */
@Injectable()
export class FlushRuns implements FlushRunner, BeforeApplicationShutdown {
  private readonly logger = new Logger('FlushRuns');
  private readonly local = new Map<string, FlushLocalRun>();
  private readonly leases: FlushRunLeases;
  private readonly watch: FlushRunWatch;
  private listening: Promise<unknown> | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private closed = false;

  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
    @Inject(FlushTransport) private readonly transport: FlushTransport,
    @Inject(FLUSH_CONTROL_PLANE) private readonly control: FlushControlPlane,
    private readonly metrics: FlushMetrics,
  ) {
    this.leases = new FlushRunLeases(control, this.logger);
    this.watch = new FlushRunWatch(options.runUnattendedStopMs, control, this.leases, () =>
      this.local.values(),
    );
  }

  run(
    host: FlushRunHost,
    key: string,
    producer: FlushRunProducer,
    options: FlushRunOptions,
    admit: FlushRunAdmission,
  ): Observable<MessageEvent> {
    assertRunKey(key);
    const ttlMs = options?.ttlMs ?? this.options.runTtlMs;
    if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS)
      throw new FlushValidationError(RUN_TTL_INVALID(options?.ttlMs));
    if (typeof producer !== 'function')
      throw new FlushValidationError(RUN_PRODUCER_INVALID(producer));
    // Started now, whether or not the Observable is subscribed: the run is the server's. The
    // authorization comes first: a refused run never calls its producer.
    const started = admit(channelOf(key)).then(() => this.start(key, producer, ttlMs));
    started.catch(() => undefined);
    return this.follow(host, key, FLUSH_FIRST_EVENT_ID, started);
  }

  attach(
    host: FlushRunHost,
    key: string,
    options: FlushAttachOptions,
    admit: FlushRunAdmission,
  ): Observable<MessageEvent> {
    assertRunKey(key);
    const from = options?.lastEventId;
    if (from !== undefined && (typeof from !== 'string' || !isEventId(from)))
      throw new FlushValidationError(RUN_LAST_EVENT_ID_INVALID(from));
    const position = from ?? FLUSH_FIRST_EVENT_ID;
    // Authorized before the key is looked up: a refused client learns nothing of the run.
    const checked = () => admit(channelOf(key)).then(() => this.check(key, position));
    return this.follow(host, key, position, checked);
  }

  async cancel(key: string): Promise<void> {
    assertRunKey(key);
    try {
      if (!(await this.exists(key))) throw new FlushRunNotFoundError(key);
      await this.control.broadcast(encodeControlMessage({ type: 'cancel', key }));
    } catch (err) {
      throw toHubError(err);
    }
  }

  /** Runs whose producer runs on this instance. */
  get size(): number {
    return this.local.size;
  }

  /**
   * Shutdown (`app.close()`, SIGTERM with `enableShutdownHooks()`): every producer of this
   * instance is aborted and its run ends with `end {"status":"failed","message":"The instance
   * running it shut down."}`, published before the transport closes, so clients attached on
   * other instances see the end. Bounded by SHUTDOWN_WAIT_MS.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.closed = true;
    const runs = [...this.local.values()];
    for (const run of runs) run.stopWith({ status: 'failed', message: RUN_SHUT_DOWN });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(runs.map(r => r.finished)),
      new Promise(resolve => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS))),
    ]);
    clearTimeout(timer);
    this.watch.disarm();
    const stop = this.stopListening;
    this.stopListening = undefined;
    await Promise.allSettled([this.leases.releaseAll(), stop?.()]);
  }

  /**
   * A run's events from `from`, then live, completing after its `end` event. `before` (the
   * start of a run, or the checks of an attach) settles before the hub stream opens; the
   * stream's headers wait for both, so a 403, 404, 409, 429 or 503 answers before any byte.
   */
  private follow(
    host: FlushRunHost,
    key: string,
    from: string,
    before: Promise<void> | (() => Promise<void>),
  ): Observable<MessageEvent> {
    return new Observable<MessageEvent>(subscriber => {
      const context = currentStream();
      let done = false;
      let inner: Subscription | undefined;
      const watch = { key: watchLeaseOf(key), holder: randomUUID() };
      const ready = (typeof before === 'function' ? before() : before)
        .then(() => this.watch.attach(watch))
        .then(() => {
          if (done) return;
          const at = context?.ready.length ?? 0;
          inner = host
            .stream(channelOf(key), from)
            .pipe(takeWhile(event => event.type !== FLUSH_RUN_END_EVENT, true))
            .subscribe(subscriber);
          // The hub stream's own start (subscription, replay) before the headers.
          return Promise.all(context?.ready.slice(at) ?? []);
        })
        .then(
          () => undefined,
          (err: unknown) => {
            if (!done) subscriber.error(toHubError(err));
          },
        );
      context?.ready.push(ready);
      return () => {
        done = true;
        inner?.unsubscribe();
        this.watch.detach(watch);
      };
    });
  }

  /**
   * Whether `attach(key, from)` may stream: 404 for a run that is neither live nor kept, 400
   * for a Last-Event-ID that is no event of the run, 204 for one that is its `end` event.
   */
  private async check(key: string, from: string): Promise<void> {
    if (!(await this.exists(key))) throw new FlushRunNotFoundError(key);
    if (from === FLUSH_FIRST_EVENT_ID) return;
    const after = await this.transport.replay(channelOf(key), from);
    if (after.status === 'resync') throw new FlushValidationError(RUN_LAST_EVENT_ID_INVALID(from));
    if (after.events.length > 0) return;
    // The client is at the newest event: the end one, or a run still producing.
    const whole = await this.transport.replay(channelOf(key), FLUSH_FIRST_EVENT_ID);
    const last = whole.status === 'ok' ? whole.events.at(-1) : undefined;
    if (last?.id === from && last.event === FLUSH_RUN_END_EVENT) throw new FlushRunEndedError(key);
  }

  /** A run of `key` is live (its lease, on any instance) or its replay is kept. */
  private async exists(key: string): Promise<boolean> {
    // The lease first: a run publishes its end before it releases the lease.
    if ((await this.control.count(liveLeaseOf(key))) > 0) return true;
    return (await this.newestId(key)) !== undefined;
  }

  private async newestId(key: string): Promise<string | undefined> {
    const read = await this.transport.replay(channelOf(key), '');
    return read.status === 'resync' ? read.lastId : undefined;
  }

  /** Takes the run's leases, then starts its producer (it runs on in the background). */
  private async start(key: string, producer: FlushRunProducer, ttlMs: number): Promise<void> {
    if (this.closed) throw new FlushUnavailableError();
    try {
      await this.listen();
    } catch (err) {
      throw toHubError(err);
    }
    const holder = randomUUID();
    const taken: FlushLease[] = [];
    const take = async (lease: FlushLease, limit: number): Promise<boolean> => {
      const ok = await this.leases.acquire(lease, limit);
      if (ok) taken.push(lease);
      return ok;
    };
    try {
      const { maxRuns } = this.options;
      if (maxRuns !== false && !(await take({ key: RUNS_LEASE, holder }, maxRuns)))
        throw new FlushTooManyRunsError(maxRuns);
      if (!(await take({ key: liveLeaseOf(key), holder }, 1))) throw new FlushRunConflictError(key);
      // Ended, but its replay is still kept: the key is taken until then.
      if ((await this.newestId(key)) !== undefined) throw new FlushRunConflictError(key);
    } catch (err) {
      await Promise.all(taken.map(lease => this.leases.release(lease)));
      throw toHubError(err);
    }
    for (const lease of taken) this.leases.hold(lease);
    const run = new FlushLocalRun(key, holder, {
      maxRunEvents: this.options.maxRunEvents,
      maxRunDurationMs: this.options.maxRunDurationMs,
      ttlMs,
      publish: this.publisherOf(key),
      logger: this.logger,
    });
    this.local.set(key, run);
    this.watch.arm();
    run.finished = run.produce(producer).then(() => this.finish(run, taken));
  }

  /** Publishes into the run's channel, counted like a hub publish (`FlushMetrics.published`). */
  private publisherOf(key: string): FlushRunPublish {
    const channel = channelOf(key);
    const counted = (): void => this.metrics.countPublished(channel);
    return (message, storage) => this.transport.publish(channel, message, storage).then(counted);
  }

  /** After the `end` event: the run leaves this instance and its leases are released. */
  private async finish(run: FlushLocalRun, leases: readonly FlushLease[]): Promise<void> {
    this.local.delete(run.key);
    for (const lease of leases) this.leases.forget(lease);
    if (this.local.size === 0) this.watch.disarm();
    await Promise.all(leases.map(lease => this.leases.release(lease)));
  }

  /** Listens for `cancel` messages from every instance (before the first run starts here). */
  private listen(): Promise<unknown> {
    if (this.listening) return this.listening;
    const listening = this.control.listen(text => {
      const message = decodeControlMessage(text);
      if (message?.type !== 'cancel') return;
      this.local.get(message.key)?.stopWith({ status: 'cancelled' });
    });
    this.listening = listening;
    listening.then(
      stop => {
        if (this.closed) return void stop().catch(() => undefined);
        this.stopListening = stop;
      },
      () => {
        if (this.listening === listening) this.listening = undefined; // retried by the next run
      },
    );
    return listening;
  }
}
