import { randomUUID } from 'node:crypto';
import {
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { isValidStreamKey } from '../broadcast/flush-channel.util.js';
import { decodeControlMessage } from '../broadcast/flush-control-messages.js';
import type { FlushControlPlane, FlushLease } from '../broadcast/flush-control-plane.interface.js';
import { isTransportUnavailable } from '../broadcast/flush-transport.interface.js';
import { FlushUnavailableError } from '../broadcast/flush-unavailable.error.js';
import { FLUSH_CONTROL_PLANE, FLUSH_RESOLVED_OPTIONS } from '../flush.internal-constants.js';
import type { ResolvedFlushOptions } from '../flush-module-options.interface.js';
import type { FlushStreamContext } from '../flush-stream.context.js';
import {
  CONTROL_PLANE_LOST,
  EXPIRES_AT_INVALID,
  STREAM_KEY_FAILED,
  STREAM_KEY_INVALID,
} from './flush-controls.messages.js';
import { FlushTooManyStreamsError } from './flush-too-many-streams.error.js';

/** Limits of one route, the module's defaults with `@FlushLimits()` applied. @internal */
export interface FlushRouteLimits {
  readonly maxStreamsPerKey: number | false;
  readonly maxLifetimeMs: number | false;
  /** Where the `maxStreamsPerKey` in force was declared: the streams it counts together. */
  readonly capScope: string;
}

/** How a control ends a stream: `event: <name>`, its data, an optional `retry:` hint. @internal */
export type FlushControlEnd = (event: string, data: unknown, retryMs?: number) => void;

/** A stream admitted by the controls, until it ends. @internal */
export interface FlushAdmission {
  /** The stream is open: from now on controls end it through `end`. */
  opened(end: FlushControlEnd): void;
  /** The stream ended, whatever ended it (idempotent): its slot and timer are released. */
  release(): void;
}

/**
 * A lease lapses this long after it was taken or renewed: the streams of an instance that died
 * stop counting within it (the contract says 30 s). Renewed every third of it.
 */
const LEASE_TTL_MS = 15_000;
/** Longest timer Node keeps (about 24.8 days); later deadlines are re-armed. */
const MAX_TIMER_MS = 2_147_483_647;
/** `retry:` hint of an `expired` event, picked at random in this range (ms). */
const EXPIRED_RETRY_MS: readonly [number, number] = [250, 1000];

const jitter = ([min, max]: readonly [number, number]) =>
  min + Math.floor(Math.random() * (max - min + 1));

interface OpenStream {
  readonly context: FlushStreamContext;
  lease: FlushLease | undefined;
  timer: NodeJS.Timeout | undefined;
  end: FlushControlEnd | undefined;
  /** A control that ended the stream before it was open: applied as it opens. */
  pending: [event: string, data: unknown, retryMs?: number] | undefined;
  released: boolean;
}

/**
 * The stream controls of one application: whose stream a request opens (`streamKey`), how many a
 * key may hold (`maxStreamsPerKey`, as expiring leases on the transport's control plane, shared
 * by every instance), how long a stream lives (`maxLifetimeMs`, `expiresAt`), and revocation
 * (`hub.disconnect()`, which reaches every instance through the control plane).
 * @internal
 */
@Injectable()
export class FlushStreamControls implements OnApplicationShutdown {
  private readonly logger = new Logger('FlushStreamControls');
  private readonly open = new Set<OpenStream>();
  private readonly leased = new Set<OpenStream>();
  private renewTimer: NodeJS.Timeout | undefined;
  private listening: Promise<unknown> | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private readonly loggedOnce = new Set<string>();
  private renewFailing = false;
  private closed = false;

  constructor(
    @Inject(FLUSH_RESOLVED_OPTIONS) private readonly options: ResolvedFlushOptions,
    @Inject(FLUSH_CONTROL_PLANE) private readonly control: FlushControlPlane,
  ) {}

  /**
   * The context of a new stream, with its key from `streamKey(request)`. A `streamKey` that
   * throws or returns something else than a string or undefined answers 500 (logged once per
   * route).
   */
  createContext(request: unknown, route: string): FlushStreamContext {
    let key: unknown;
    try {
      key = this.options.streamKey(request);
    } catch (err) {
      this.logOnce(`${route}:streamKey`, STREAM_KEY_FAILED(route, 'streamKey'), err);
      throw new InternalServerErrorException();
    }
    if (key !== undefined && !isValidStreamKey(key)) {
      this.logOnce(`${route}:streamKey`, STREAM_KEY_INVALID(route, key));
      throw new InternalServerErrorException();
    }
    return {
      id: randomUUID(),
      key,
      request,
      channels: new Set(),
      position: undefined,
      ready: [],
    };
  }

  /**
   * Lets a stream open, before any byte: takes its slot when the route has `maxStreamsPerKey`
   * (throws `FlushTooManyStreamsError`, a 429, when the key has none left; a
   * `FlushUnavailableError`, a 503, when the control plane cannot answer) and computes its
   * deadline. Starts listening for revocations on first use.
   */
  async admit(
    context: FlushStreamContext,
    request: unknown,
    limits: FlushRouteLimits,
    route: string,
  ): Promise<FlushAdmission> {
    this.listen();
    const deadline = this.deadlineOf(request, limits, route);
    const stream: OpenStream = {
      context,
      lease: undefined,
      timer: undefined,
      end: undefined,
      pending: undefined,
      released: false,
    };
    const { key } = context;
    if (limits.maxStreamsPerKey !== false && key !== undefined) {
      const lease = { key: `streams:${limits.capScope}:${key}`, holder: context.id };
      let taken: boolean;
      try {
        taken = await this.control.acquire(
          lease.key,
          lease.holder,
          limits.maxStreamsPerKey,
          LEASE_TTL_MS,
        );
      } catch (err) {
        throw isTransportUnavailable(err)
          ? new FlushUnavailableError(undefined, { cause: err })
          : err;
      }
      if (!taken) throw new FlushTooManyStreamsError(limits.maxStreamsPerKey);
      stream.lease = lease;
      this.leased.add(stream);
      this.armRenewal();
    }
    this.open.add(stream);
    return {
      opened: end => this.opened(stream, end, deadline),
      release: () => this.release(stream),
    };
  }

  /** Ends the open streams a `disconnect` matches (both given: streams matching both). */
  revoke(key: string | undefined, channel: string | undefined): number {
    let ended = 0;
    for (const stream of this.open) {
      const { context } = stream;
      if (key !== undefined && context.key !== key) continue;
      if (channel !== undefined && !context.channels.has(channel)) continue;
      this.endStream(stream, 'revoked', { reason: 'disconnect' });
      ended++;
    }
    return ended;
  }

  /** Streams admitted and not yet ended on this instance. */
  get size(): number {
    return this.open.size;
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearInterval(this.renewTimer);
    this.renewTimer = undefined;
    for (const stream of this.open) clearTimeout(stream.timer);
    const leases = [...this.leased].flatMap(s => (s.lease ? [s.lease] : []));
    this.leased.clear();
    this.open.clear();
    const stop = this.stopListening;
    this.stopListening = undefined;
    // Slots are given back now rather than left to lapse (bounded: the transport may be gone).
    await Promise.allSettled([...leases.map(l => this.control.release(l.key, l.holder)), stop?.()]);
  }

  private opened(stream: OpenStream, end: FlushControlEnd, deadline: number | undefined): void {
    if (stream.released) return;
    stream.end = end;
    if (stream.pending) {
      const [event, data, retryMs] = stream.pending;
      stream.pending = undefined;
      return end(event, data, retryMs);
    }
    if (deadline !== undefined) this.armDeadline(stream, deadline);
  }

  private armDeadline(stream: OpenStream, deadline: number): void {
    const wait = deadline - Date.now();
    if (wait <= 0) {
      this.endStream(stream, 'expired', { reason: 'lifetime' }, jitter(EXPIRED_RETRY_MS));
      return;
    }
    stream.timer = setTimeout(
      () => {
        stream.timer = undefined;
        this.armDeadline(stream, deadline);
      },
      Math.min(wait, MAX_TIMER_MS),
    );
  }

  private endStream(stream: OpenStream, event: string, data: unknown, retryMs?: number): void {
    if (stream.released) return;
    if (!stream.end) {
      stream.pending ??= [event, data, retryMs];
      return;
    }
    stream.end(event, data, retryMs);
  }

  private release(stream: OpenStream): void {
    if (stream.released) return;
    stream.released = true;
    clearTimeout(stream.timer);
    stream.timer = undefined;
    this.open.delete(stream);
    const lease = stream.lease;
    if (!lease) return;
    this.leased.delete(stream);
    if (this.leased.size === 0) {
      clearInterval(this.renewTimer);
      this.renewTimer = undefined;
    }
    if (this.closed) return;
    this.control.release(lease.key, lease.holder).catch((err: unknown) => {
      // The lease lapses on its own within LEASE_TTL_MS.
      this.logOnce('release', CONTROL_PLANE_LOST('releasing a stream slot', messageOf(err)));
    });
  }

  /** The stream's deadline: `maxLifetimeMs` from now or `expiresAt(request)`, the earlier. */
  private deadlineOf(
    request: unknown,
    limits: FlushRouteLimits,
    route: string,
  ): number | undefined {
    let deadline = limits.maxLifetimeMs === false ? undefined : Date.now() + limits.maxLifetimeMs;
    const expiresAt = this.options.expiresAt;
    if (!expiresAt) return deadline;
    let value: unknown;
    try {
      value = expiresAt(request);
    } catch (err) {
      this.logOnce(`${route}:expiresAt`, STREAM_KEY_FAILED(route, 'expiresAt'), err);
      throw new InternalServerErrorException();
    }
    if (value === undefined) return deadline;
    const at = value instanceof Date ? value.getTime() : value;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      this.logOnce(`${route}:expiresAt`, EXPIRES_AT_INVALID(route, value));
      throw new InternalServerErrorException();
    }
    if (deadline === undefined || at < deadline) deadline = at;
    return deadline;
  }

  /** Renews every lease this instance holds, well before they lapse. */
  private armRenewal(): void {
    if (this.renewTimer) return;
    this.renewTimer = setInterval(() => {
      const leases = [...this.leased].flatMap(s => (s.lease ? [s.lease] : []));
      if (leases.length === 0) return;
      this.control.renew(leases, LEASE_TTL_MS).then(
        () => {
          if (!this.renewFailing) return;
          this.renewFailing = false;
          this.logger.log('Stream slots renewed again.');
        },
        (err: unknown) => {
          if (this.renewFailing) return;
          this.renewFailing = true;
          this.logger.warn(CONTROL_PLANE_LOST('renewing stream slots', messageOf(err)));
        },
      );
    }, LEASE_TTL_MS / 3);
    this.renewTimer.unref();
  }

  /** Listens for revocations from every instance; retried on the next stream after a failure. */
  private listen(): void {
    if (this.listening || this.closed) return;
    const listening = this.control.listen(text => {
      const message = decodeControlMessage(text);
      if (message?.type === 'disconnect') this.revoke(message.key, message.channel);
    });
    this.listening = listening;
    listening.then(
      stop => {
        if (this.closed) return void stop().catch(() => undefined);
        this.stopListening = stop;
      },
      (err: unknown) => {
        if (this.listening === listening) this.listening = undefined;
        // An outage is logged once by the transport; the next admission listens again.
        if (isTransportUnavailable(err)) return;
        this.logOnce('listen', CONTROL_PLANE_LOST('listening for revocations', messageOf(err)));
      },
    );
  }

  private logOnce(id: string, message: string, err?: unknown): void {
    if (this.loggedOnce.has(id)) return;
    this.loggedOnce.add(id);
    if (err === undefined) this.logger.error(message);
    else this.logger.error(message, (err as Error)?.stack ?? String(err));
  }
}

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
