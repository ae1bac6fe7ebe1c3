/** One dispatched server-sent event, as the WHATWG event stream interpretation produces it. @publicApi */
export interface FlushSseEvent {
  /** The event type: the `event:` field, or `message` when there was none. */
  event: string;
  /** The `data:` lines joined with LF. */
  data: string;
  /** This event's own `id:` field, when it had one (without NUL). */
  id?: string;
  /** The stream's last event ID after this event (what a reconnect sends as `Last-Event-ID`). */
  lastEventId: string;
}

/**
 * An incremental `text/event-stream` parser per the WHATWG rules: CR, LF and CRLF line ends (also
 * split across chunks), `data` joining, `id` with NUL ignored, `retry` digits only, comments, a
 * leading BOM. Feed it decoded text; it calls `onEvent` per dispatched event and `onRetry` per
 * valid `retry:` field, and returns the stream's last event ID after the chunk (an `id:` without
 * `data:` moves it too, at its blank line). An event not terminated by a blank line is never
 * dispatched.
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 * @publicApi
 */
export const createSseParser = (
  onEvent: (event: FlushSseEvent) => void,
  onRetry: (ms: number) => void = () => undefined,
  lastEventId = '',
): ((chunk: string) => string) => {
  let idBuffer = lastEventId;
  let buffer = '';
  let data = '';
  let event = '';
  let id: string | undefined;
  let start = true;
  let skipLf = false;

  const line = (text: string) => {
    if (text === '') {
      lastEventId = idBuffer;
      if (data !== '')
        onEvent({ event: event || 'message', data: data.slice(0, -1), id, lastEventId });
      data = event = '';
      id = undefined;
      return;
    }
    const colon = text.indexOf(':');
    if (colon === 0) return;
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    if (field === 'data') data += value + '\n';
    else if (field === 'event') event = value;
    else if (field === 'id') {
      if (!value.includes('\0')) idBuffer = id = value;
    } else if (field === 'retry' && /^\d+$/.test(value)) onRetry(+value);
  };

  return chunk => {
    if (start && chunk !== '') {
      start = false;
      if (chunk[0] === '\uFEFF') chunk = chunk.slice(1);
    }
    if (skipLf && chunk[0] === '\n') chunk = chunk.slice(1);
    skipLf = false;
    buffer += chunk;
    let from = 0;
    for (;;) {
      const cr = buffer.indexOf('\r', from);
      const lf = buffer.indexOf('\n', from);
      const end = cr < 0 ? lf : lf < 0 ? cr : Math.min(cr, lf);
      if (end < 0) break;
      line(buffer.slice(from, end));
      from = end + 1;
      if (buffer[end] === '\r') {
        if (from === buffer.length) skipLf = true;
        else if (buffer[from] === '\n') from++;
      }
    }
    buffer = buffer.slice(from);
    return lastEventId;
  };
};
