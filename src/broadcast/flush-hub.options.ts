/** Options of `FlushHub.publish()`. @publicApi */
export interface FlushPublishOptions {
  /** Event name (the SSE `event:` field). */
  event?: string;
  /**
   * Only the streams whose stream key (FlushModule's `streamKey(request)`, default the client
   * IP; a ticket's subject) equals this receive the event, on every instance. It keeps its place
   * in the channel's order and history, for that key alone: a resume of that key replays it, a
   * resume of any other key never does. Streams without a key never receive targeted events.
   * 1-256 characters without CR, LF or NUL.
   */
  to?: string;
}

/** Options of `FlushHub.stream()` and `FlushHub.streamFor()`. @publicApi */
export interface FlushStreamOptions {
  /** The client's Last-Event-ID: events after it are replayed before live ones. */
  lastEventId?: string;
  /**
   * Lets `stream()` open a channel without a request to authorize, although FlushModule has
   * `authorize` rules: for server-internal streams only (a job that listens to a channel, a
   * route that authorized the client itself). Without it, `stream()` throws while rules exist,
   * so that no route streams a protected channel to anyone by mistake; routes serving clients
   * use `streamFor(request, channel, options)`, which applies the rules. Ignored by
   * `streamFor()`, which always authorizes.
   * @default false
   */
  skipAuthorization?: boolean;
  /**
   * Snapshot then live: the stream subscribes first (holding live events), reads the channel's
   * newest id, then calls the loader; its first event is `event: snapshot` with the loader's
   * result as `data:` and that newest id as `id:` (no `id:` at all while the channel has no
   * event), then every event after that id, exactly once, in order. With a `lastEventId` the
   * history still covers, the stream resumes instead (no snapshot); with one it does not, the
   * snapshot replaces the `resync` event. On a multi-channel stream the loader runs once, for
   * all channels, and the snapshot's id is the composite cursor.
   *
   * A loader that rejects fails the stream: before the headers went out (an in-memory hub and a
   * fast loader), Nest's exception filters answer with its status; after, an `error` event
   * ends the stream.
   */
  snapshot?: () => Promise<unknown>;
}
