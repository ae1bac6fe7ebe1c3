import { backoffDelay, resolveRetryOptions } from './flush-client.retry.js';
import type {
  FlushClientEvents,
  FlushClientOptions,
  FlushClientState,
  FlushEventMeta,
  FlushRetryOptions,
  FlushStateDetail,
} from './flush-client.types.js';
import { createSseParser } from './sse.parser.js';

/** A stream that delivered no event (but control events) and lasted less than this counts as a failed attempt. */
const HEALTHY_MS = 5000;
/** How many recent events (name and id) each tab remembers to drop repeats. */
const SEEN_IDS = 256;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = (a: any, b?: any) => void;

/** A message between tabs: an event (`n`ame, `d`ata, `m`eta, `l`ast id), a `s`tate, a `q`uestion. */
interface TabMessage {
  n?: string;
  d?: unknown;
  m?: FlushEventMeta;
  l?: string;
  s?: FlushClientState;
  x?: FlushStateDetail;
  /** A joining tab's question: what is the connection's state? */
  q?: 1;
}

const parse = (data: string): unknown => {
  try {
    return JSON.parse(data);
  } catch {
    return data;
  }
};

/** Seconds or an HTTP date, in milliseconds from now; undefined when absent or invalid. */
const retryAfterMs = (value: string | null): number | undefined => {
  if (!value) return undefined;
  const ms = /^\d+$/.test(value) ? +value * 1000 : Date.parse(value) - Date.now();
  return ms >= 0 ? ms : ms < 0 ? 0 : undefined;
};

/**
 * A browser and Node (>= 20) client for nestjs-flush SSE streams, built on `fetch`: headers and
 * tickets on every connect, resume with `Last-Event-ID`, Retry-After and backoff with jitter,
 * credential refresh on `expired`, a stop on 204, 403, `revoked` and a repeated 401, and one
 * connection per URL shared by every tab of the browser.
 * @example
 * const client = new FlushClient<{ headline: Headline }>('/news');
 * client.on('headline', headline => show(headline.title));
 * @example
 * // The event map of the server's hub.channel<NewsEvents>('news'), through a type-only import:
 * const client = new FlushClient<FlushEventsOf<NewsChannel>>('/news');
 * @publicApi
 */
export class FlushClient<E extends object = Record<string, unknown>> {
  private readonly handlers = new Map<string, Set<Handler>>();
  private readonly abort = new AbortController();
  private readonly seen: string[] = [];
  private readonly href: string;
  private lastId = '';
  private leader = false;
  private shared = false;
  private stopped = false;
  private tabs?: BroadcastChannel;
  private wake?: () => void;
  private current?: TabMessage;
  private readonly retry: Required<FlushRetryOptions>;

  /** Throws a `TypeError` for a URL it cannot parse or a bad `retry` option. */
  constructor(
    url: string,
    private readonly options: FlushClientOptions = {},
  ) {
    this.retry = resolveRetryOptions(options.retry);
    this.href = new URL(url, globalThis.location?.href).href;
    const locks = globalThis.navigator?.locks;
    const share =
      options.shareAcrossTabs !== false &&
      locks &&
      typeof BroadcastChannel === 'function' &&
      // In Node a client always has its own connection, even where locks and BroadcastChannel exist.
      !(globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node;
    // Started after the constructor, so that handlers added right after it see every state.
    void Promise.resolve().then(() => {
      if (this.stopped) return;
      this.emit('state', 'connecting');
      if (!share) return this.run();
      this.shared = true;
      const name = `nestjs-flush ${this.href}`;
      this.tabs = new BroadcastChannel(name);
      this.tabs.onmessage = ({ data: m }: MessageEvent<TabMessage>) => {
        if (m.q) {
          if (this.leader && this.current) this.tabs!.postMessage(this.current);
        } else if (m.s === 'closed') this.stop(m.x!, false);
        else if (m.s) this.emit('state', m.s, m.x);
        else this.deliver(m.n!, m.d, m.m!, m.l!);
      };
      // A tab that joins asks the one holding the connection for its state.
      this.tabs.postMessage({ q: 1 });
      // Granted the lock, a tab first lets the messages already sent to it run: when the tab
      // before it stopped for good (204, 403, revoked, gave-up), its `closed` came before the lock.
      locks
        .request(name, { signal: this.abort.signal }, () => this.sleep(0).then(() => this.run()))
        .catch(() => {});
    });
  }

  /** Adds a handler for the state of the connection; returns the function that removes it. */
  on(
    event: 'state',
    handler: (state: FlushClientState, detail?: FlushStateDetail) => void,
  ): () => void;
  /**
   * Adds a handler for events named `event` (`message`: events without a name), including the
   * server's control events (`resync`: refetch your state); returns the function that removes it.
   * A typed client accepts only the names of its event map and the control events.
   */
  on<K extends keyof FlushClientEvents<E> & string>(
    event: K,
    handler: (data: FlushClientEvents<E>[K], meta: FlushEventMeta) => void,
  ): () => void;
  on(event: string, handler: Handler): () => void {
    const set = this.handlers.get(event) ?? new Set();
    this.handlers.set(event, set.add(handler));
    return () => set.delete(handler);
  }

  /**
   * Who holds the connection: `own` (not shared: Node, `shareAcrossTabs: false`, a browser
   * without Web Locks or BroadcastChannel), `leader` (this tab holds the connection shared with
   * the other tabs) or `follower` (another tab holds it and relays its events here).
   */
  get role(): 'own' | 'leader' | 'follower' {
    if (!this.shared) return 'own';
    return this.leader ? 'leader' : 'follower';
  }

  /** Closes the connection for good (another tab takes it over when it shares it). */
  close(): void {
    this.stop({ reason: 'close' }, false);
  }

  private emit(event: string, a: unknown, b?: unknown): void {
    for (const handler of [...(this.handlers.get(event) ?? [])]) {
      try {
        handler(a, b);
      } catch (err) {
        console.error(err);
      }
    }
  }

  private state(state: FlushClientState, detail: FlushStateDetail): void {
    this.current = { s: state, x: detail };
    if (this.leader) this.tabs?.postMessage(this.current);
    this.emit('state', state, detail);
  }

  private stop(detail: FlushStateDetail, tell: boolean): void {
    if (this.stopped) return;
    if (tell) this.state('closed', detail);
    else this.emit('state', 'closed', detail);
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    this.tabs?.close();
  }

  /** Hands an event to the handlers once (a repeated id is dropped) and to the other tabs. */
  private deliver(name: string, data: unknown, meta: FlushEventMeta, lastId: string): void {
    if (this.stopped) return;
    // The hub's control events (resync, expired, revoked) carry the position as their id: the
    // id of the event before them. Name and id together are what repeats on a handover.
    const key = meta.id && `${name} ${meta.id}`;
    if (key) {
      if (this.seen.includes(key)) return;
      if (this.seen.push(key) > SEEN_IDS) this.seen.shift();
    }
    this.lastId = lastId;
    if (this.leader) this.tabs?.postMessage({ n: name, d: data, m: meta, l: lastId });
    this.emit(name, data, meta);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** The connection loop; never rejects (a bug in it closes the client and says so). */
  private run(): Promise<void> {
    return this.connect().catch(err => this.stop({ reason: 'error', error: String(err) }, true));
  }

  /** The connection loop of the tab that holds the connection; resolves once it stopped. */
  private async connect(): Promise<void> {
    this.leader = true;
    const { initialDelayMs, maxDelayMs, maxAttempts } = this.retry;
    let base = initialDelayMs;
    // Failed attempts in a row: all of them set the backoff; only those that count (not network
    // errors, not expiries) bring the client to give up.
    let failures = 0;
    let counted = 0;
    let unauthorized = false;
    while (!this.stopped) {
      const started = Date.now();
      let detail: FlushStateDetail;
      let delayMs: number | undefined;
      let counts = true;
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      let res: Response | undefined;
      try {
        let headers: Record<string, string>;
        const url = new URL(this.href);
        try {
          headers = { ...(await this.options.headers?.()), accept: 'text/event-stream' };
          if (this.options.ticket) url.searchParams.set('ticket', await this.options.ticket());
        } catch (err) {
          throw { reason: 'credentials', error: String(err) };
        }
        if (this.lastId) headers['last-event-id'] = this.lastId;
        res = await fetch(url, { headers, signal: this.abort.signal, cache: 'no-store' });
        const status = res.status;
        detail = { reason: 'status', status };
        if (status === 204 || status === 403 || (status === 401 && unauthorized)) {
          return this.stop(detail, true);
        }
        if (status === 401) {
          // Once: the next attempt asks headers() / ticket() again, at once.
          unauthorized = true;
          delayMs = 0;
          counts = false;
        } else if (status === 429 || status === 503) {
          counts = false;
          // The server's reason (e.g. "Too many open streams: … Close one …") for the page to show.
          const body = (await res.json().catch(() => ({}))) as {
            retryAfter?: number;
            message?: unknown;
          };
          if (typeof body.message === 'string') detail.message = body.message;
          delayMs = retryAfterMs(res.headers.get('retry-after')) ?? (body.retryAfter ?? NaN) * 1000;
          // A little later than asked, never earlier: clients told the same time spread out.
          if (delayMs >= 0) delayMs *= 1 + Math.random() / 5;
          else delayMs = undefined;
        } else if (!res.ok || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
          if (res.ok) detail = { reason: 'content-type', status };
        } else {
          unauthorized = false;
          this.state('open', { reason: 'open', status });
          let control = '';
          let events = 0;
          const feed = createSseParser(
            e => {
              if (e.event === 'expired' || e.event === 'revoked') control = e.event;
              else events++;
              const meta = { id: e.id, event: e.event, raw: e.data };
              this.deliver(e.event, parse(e.data), meta, e.lastEventId);
            },
            ms => (base = ms),
            this.lastId,
          );
          const decoder = new TextDecoder();
          reader = res.body!.getReader();
          for (;;) {
            const { done, value } = await reader.read();
            if (done) break;
            this.lastId = feed(decoder.decode(value, { stream: true }));
            if (control === 'revoked') return this.stop({ reason: control, status }, true);
          }
          detail = { reason: control || 'ended', status };
          // A credential that is already past its deadline expires the stream at once, again and
          // again: that loop backs off like any failure, without giving up.
          counts = !control;
          if (events || Date.now() - started >= HEALTHY_MS) {
            failures = counted = 0;
            // After a stream that worked, the server's retry (expired: 250-1000 ms) as it is.
            delayMs = control ? base : base * (0.5 + Math.random() / 2);
          }
        }
      } catch (err) {
        if (this.stopped) return;
        detail = (err as FlushStateDetail).reason
          ? (err as FlushStateDetail)
          : { reason: 'network', error: String(err) };
        counts = detail.reason !== 'network';
      } finally {
        // Frees the connection of an answer that is not read (or no longer).
        if (reader || !res?.bodyUsed) void (reader ?? res?.body)?.cancel().catch(() => {});
      }
      if (delayMs === undefined) {
        failures++;
        if (counts && ++counted >= maxAttempts)
          return this.stop({ ...detail, reason: 'gave-up', cause: detail.reason }, true);
        delayMs = backoffDelay(failures, base, maxDelayMs);
      }
      this.state('retrying', { ...detail, delayMs: Math.round(delayMs) });
      await this.sleep(delayMs);
      if (!this.stopped) this.state('connecting', { reason: 'connecting' });
    }
  }
}
