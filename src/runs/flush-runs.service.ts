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
  FlushRunHost,
  FlushRunner,
  FlushRunOptions,
  FlushRunProducer,
} from '../broadcast/flush-runner.interface.js';
import {
  FLUSH_FIRST_EVENT_ID,
  FlushTransport,
  isEventId,
  isTransportUnavailable,
} from '../broadcast/flush-transport.interface.js';
import { FlushUnavailableError } from '../broadcast/flush-unavailable.error.js';
import { toPublicError } from '../flush.errors-mapping.js';
import { FLUSH_CONTROL_PLANE, FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import { currentStream } from '../flush-stream.context.js';
import { FlushValidationError } from '../flush-validation.error.js';
import { encodeData } from '../sse/sse.serializer.js';
import { isStreamSource, pumpSource } from '../writer/stream-source.util.js';
import {
  FlushRunConflictError,
  FlushRunEndedError,
  FlushRunNotFoundError,
  FlushTooManyRunsError,
} from './flush-run.errors.js';
import { FlushRunSink, FlushRunTooLongError } from './flush-run.sink.js';
import {
  RUN_CONTROL_LOST,
  RUN_END_LOST,
  RUN_FAILED,
  RUN_KEY_INVALID,
  RUN_LAST_EVENT_ID_INVALID,
  RUN_PRODUCER_INVALID,
  RUN_SHUT_DOWN,
  RUN_TTL_INVALID,
} from './flush-runs.messages.js';

/** How a run ended: the data of its `end` event. @publicApi */
export interface FlushRunEnd {
  readonly status: 'completed' | 'cancelled' | 'failed' | 'expired';
  /** Why it failed (sanitized: never a stack or an internal error's message). */
  readonly message?: string;
  /** Why it expired: its `maxRunDurationMs`, or nobody attached for `runUnattendedStopMs`. */
  readonly reason?: 'duration' | 'unattended';
}

/** Name of every run's last event. @publicApi */
export const FLUSH_RUN_END_EVENT = 'end';

/** A lease lapses this long after it was taken or renewed (a killed instance's runs stop counting). */
const LEASE_TTL_MS = 15_000;
/** How long shutdown waits for the runs of this instance to publish their `end`. */
const SHUTDOWN_WAIT_MS = 5_000;
const RUN_KEY = /^[A-Za-z0-9._\-:/@]{1,200}$/;
const MAX_TTL_MS = 86_400_000;

/** The hub channel of a run, and the lease that makes its key live. */
const channelOf = (key: string): string => `run:${key}`;
const liveLeaseOf = (key: string): string => `run:${key}`;
const watchLeaseOf = (key: string): string => `run-watch:${key}`;
const RUNS_LEASE = 'runs';

const assertRunKey = (key: unknown): string => {
  if (typeof key !== 'string' || !RUN_KEY.test(key))
    throw new FlushValidationError(RUN_KEY_INVALID(key));
  return key;
};

const toHubError = (err: unknown): unknown =>
  isTransportUnavailable(err) ? new FlushUnavailableError(undefined, { cause: err }) : err;

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

/** One run whose producer runs on this instance. */
interface LocalRun {
  readonly key: string;
  readonly holder: string;
  readonly controller: AbortController;
  readonly sink: FlushRunSink;
  /** Why it was stopped from outside (cancel, expiry, shutdown); undefined: it ran to its end. */
  stop: FlushRunEnd | undefined;
  /** Settles once the `end` event is out (or could not be) and the leases are released. */
  finished: Promise<void>;
  /** Since when nobody was attached (for `runUnattendedStopMs`). */
  unattendedSince: number | undefined;
}

/**
 * The runs of this instance (`hub.run()`, `attach()`, `cancel()`): a run is the hub channel
 * `run:<key>` whose history holds the whole run (the transport's per-publish storage), a lease
 * `run:<key>` on the control plane while its producer lives (one per key across instances), a
 * lease in `runs` (`maxRuns`), and `cancel` messages through the control plane.
 * @internal
 */
@Injectable()
export class FlushRuns implements FlushRunner, BeforeApplicationShutdown {
  private readonly logger = new Logger('FlushRuns');
  private readonly local = new Map<string, LocalRun>();
  /** Every lease this instance holds for runs and attached streams, renewed by one timer. */
  private readonly leases = new Map<string, FlushLease>();
  private renewTimer: NodeJS.Timeout | undefined;
  private watchTimer: NodeJS.Timeout | undefined;
  private listening: Promise<unknown> | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private renewFailing = false;
  private closed = false;

  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
    @Inject(FlushTransport) private readonly transport: FlushTransport,
    @Inject(FLUSH_CONTROL_PLANE) private readonly control: FlushControlPlane,
  ) {}

  run(
    host: FlushRunHost,
    key: string,
    producer: FlushRunProducer,
    options: FlushRunOptions,
  ): Observable<MessageEvent> {
    assertRunKey(key);
    const ttlMs = options?.ttlMs ?? this.options.runTtlMs;
    if (!Number.isInteger(ttlMs) || ttlMs < 1 || ttlMs > MAX_TTL_MS)
      throw new FlushValidationError(RUN_TTL_INVALID(options?.ttlMs));
    if (typeof producer !== 'function')
      throw new FlushValidationError(RUN_PRODUCER_INVALID(producer));
    // Started now, whether or not the Observable is subscribed: the run is the server's.
    const started = this.start(key, producer, ttlMs);
    started.catch(() => undefined);
    return this.follow(host, key, FLUSH_FIRST_EVENT_ID, started);
  }

  attach(host: FlushRunHost, key: string, options: FlushAttachOptions): Observable<MessageEvent> {
    assertRunKey(key);
    const from = options?.lastEventId;
    if (from !== undefined && (typeof from !== 'string' || !isEventId(from)))
      throw new FlushValidationError(RUN_LAST_EVENT_ID_INVALID(from));
    return this.follow(host, key, from ?? FLUSH_FIRST_EVENT_ID, undefined);
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
    for (const run of runs) this.stopRun(run, { status: 'failed', message: RUN_SHUT_DOWN });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(runs.map(r => r.finished)),
      new Promise(resolve => (timer = setTimeout(resolve, SHUTDOWN_WAIT_MS))),
    ]);
    clearTimeout(timer);
    clearInterval(this.renewTimer);
    clearInterval(this.watchTimer);
    const leases = [...this.leases.values()];
    this.leases.clear();
    const stop = this.stopListening;
    this.stopListening = undefined;
    await Promise.allSettled([...leases.map(l => this.control.release(l.key, l.holder)), stop?.()]);
  }

  /**
   * A run's events from `from`, then live, completing after its `end` event. `before` (the
   * start of a run, or the checks of an attach) settles before the hub stream opens; the
   * stream's headers wait for both, so a 404, 409, 429 or 503 answers before any byte.
   */
  private follow(
    host: FlushRunHost,
    key: string,
    from: string,
    started: Promise<void> | undefined,
  ): Observable<MessageEvent> {
    return new Observable<MessageEvent>(subscriber => {
      const context = currentStream();
      let done = false;
      let inner: Subscription | undefined;
      const watch = { key: watchLeaseOf(key), holder: randomUUID() };
      const ready = (started ?? this.check(key, from))
        .then(() => this.watch(watch))
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
        this.unwatch(watch);
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
      const ok = await this.control.acquire(lease.key, lease.holder, limit, LEASE_TTL_MS);
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
      await Promise.allSettled(taken.map(l => this.control.release(l.key, l.holder)));
      throw toHubError(err);
    }
    for (const lease of taken) this.hold(lease);
    const storage = {
      historySize: this.options.maxRunEvents + 1,
      expireMs: this.options.maxRunDurationMs + ttlMs,
    };
    const channel = channelOf(key);
    const run: LocalRun = {
      key,
      holder,
      controller: new AbortController(),
      sink: new FlushRunSink(
        data => this.transport.publish(channel, { data }, storage),
        this.options.maxRunEvents,
      ),
      stop: undefined,
      finished: Promise.resolve(),
      unattendedSince: Date.now(),
    };
    this.local.set(key, run);
    this.armWatch();
    run.finished = this.produce(run, producer, ttlMs, taken);
  }

  /** Runs the producer to its end, publishes the `end` event, releases the leases. */
  private async produce(
    run: LocalRun,
    producer: FlushRunProducer,
    ttlMs: number,
    leases: readonly FlushLease[],
  ): Promise<void> {
    const deadline = setTimeout(
      () => this.stopRun(run, { status: 'expired', reason: 'duration' }),
      this.options.maxRunDurationMs,
    );
    deadline.unref();
    let error: unknown;
    try {
      const source: unknown = producer(run.controller.signal);
      if (!isStreamSource(source)) throw new TypeError(RUN_PRODUCER_INVALID(source));
      await pumpSource(source, run.sink, encodeData);
      await run.sink.drained();
      error = run.sink.error;
    } catch (err) {
      error = run.sink.error ?? err;
    } finally {
      clearTimeout(deadline);
    }
    run.sink.close();
    let end: FlushRunEnd;
    if (run.stop) end = run.stop;
    else if (error === undefined) end = { status: 'completed' };
    else {
      if (!(error instanceof FlushRunTooLongError))
        this.logger.error(RUN_FAILED(run.key), (error as Error)?.stack ?? String(error));
      end = {
        status: 'failed',
        message:
          error instanceof FlushRunTooLongError ? error.message : toPublicError(error).message,
      };
    }
    if (!run.controller.signal.aborted) run.controller.abort();
    try {
      await this.transport.publish(
        channelOf(run.key),
        { event: FLUSH_RUN_END_EVENT, data: JSON.stringify(end) },
        { historySize: this.options.maxRunEvents + 1, expireMs: ttlMs },
      );
    } catch (err) {
      this.logger.error(RUN_END_LOST(run.key, messageOf(err)));
    }
    this.local.delete(run.key);
    for (const lease of leases) this.leases.delete(lease.key + '\n' + lease.holder);
    this.idleTimers();
    await Promise.allSettled(leases.map(l => this.control.release(l.key, l.holder)));
  }

  /** Stops a run from outside: its signal aborts, its producer is stopped, `end` says why. */
  private stopRun(run: LocalRun, end: FlushRunEnd): void {
    if (run.stop || run.sink.closed) return;
    run.stop = end;
    run.controller.abort();
    run.sink.close();
  }

  /** An attached stream counts for `runUnattendedStopMs` (a lease, on every instance). */
  private async watch(lease: FlushLease): Promise<void> {
    if (this.options.runUnattendedStopMs === false) return;
    await this.control.acquire(lease.key, lease.holder, 1_000_000, LEASE_TTL_MS);
    this.hold(lease);
  }

  private unwatch(lease: FlushLease): void {
    if (this.options.runUnattendedStopMs === false) return;
    if (!this.leases.delete(lease.key + '\n' + lease.holder)) return;
    this.idleTimers();
    this.control.release(lease.key, lease.holder).catch(() => undefined); // lapses on its own
  }

  /** Checks, for the runs of this instance, whether anyone is attached anywhere. */
  private armWatch(): void {
    const stopMs = this.options.runUnattendedStopMs;
    if (stopMs === false || this.watchTimer) return;
    this.watchTimer = setInterval(
      () => {
        for (const run of this.local.values()) {
          this.control.count(watchLeaseOf(run.key)).then(
            attached => {
              const now = Date.now();
              if (attached > 0) run.unattendedSince = undefined;
              else if (run.unattendedSince === undefined) run.unattendedSince = now;
              else if (now - run.unattendedSince >= stopMs)
                this.stopRun(run, { status: 'expired', reason: 'unattended' });
            },
            () => undefined, // the control plane is away: decide on the next tick
          );
        }
      },
      Math.max(10, Math.min(1_000, Math.floor(stopMs / 4))),
    );
    this.watchTimer.unref();
  }

  /** Keeps a lease renewed until it is released. */
  private hold(lease: FlushLease): void {
    this.leases.set(lease.key + '\n' + lease.holder, lease);
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      const leases = [...this.leases.values()];
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

  /** No timer outlives what it serves. */
  private idleTimers(): void {
    if (this.leases.size === 0) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
    if (this.local.size === 0) {
      clearInterval(this.watchTimer);
      this.watchTimer = undefined;
    }
  }

  /** Listens for `cancel` messages from every instance (before the first run starts here). */
  private listen(): Promise<unknown> {
    if (this.listening) return this.listening;
    const listening = this.control.listen(text => {
      const message = decodeControlMessage(text);
      if (message?.type !== 'cancel') return;
      const run = this.local.get(message.key);
      if (run) this.stopRun(run, { status: 'cancelled' });
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
