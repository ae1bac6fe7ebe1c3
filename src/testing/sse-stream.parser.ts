import { createParser } from 'eventsource-parser';

/** One event as a client sees it. @publicApi */
export interface ParsedSseEvent {
  /** Event name; `undefined` for the default `message`. */
  event?: string;
  /** Id field, if the event had one. */
  id?: string;
  /** Data lines joined with LF. */
  data: string;
}

/** What an SSE parse found. @publicApi */
export interface ParsedSseStream {
  events: ParsedSseEvent[];
  comments: string[];
  retries: number[];
}

/**
 * Parses SSE text the way a browser does (through `eventsource-parser`), for assertions.
 * @example expect(parseSseStream('data: a\n\n').events).toEqual([{ data: 'a' }]);
 * @publicApi
 */
export const parseSseStream = (text: string): ParsedSseStream => {
  const out: ParsedSseStream = { events: [], comments: [], retries: [] };
  const parser = createParser({
    onEvent: e => out.events.push(toParsed(e)),
    onComment: c => out.comments.push(c),
    onRetry: r => out.retries.push(r),
  });
  parser.feed(text);
  return out;
};

/** @internal */
export const toParsed = (e: { event?: string; id?: string; data: string }): ParsedSseEvent => {
  const parsed: ParsedSseEvent = { data: e.data };
  if (e.event !== undefined) parsed.event = e.event;
  if (e.id !== undefined) parsed.id = e.id;
  return parsed;
};
