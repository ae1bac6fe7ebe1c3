import type { INestApplication } from '@nestjs/common';
import { parseSseStream, type ParsedSseEvent } from '../../src/testing/index.js';
import { rawRequest, type RawResponse } from './http.js';

/** The events of an SSE body. */
export const eventsOf = (body: string): ParsedSseEvent[] => parseSseStream(body).events;

/** The text of a run's events (its `end` left out). */
export const runText = (events: readonly ParsedSseEvent[]): string =>
  events
    .filter(e => e.event !== 'end')
    .map(e => e.data)
    .join('');

/** The data of a run's `end` event, if it arrived. */
export const endOf = (events: readonly ParsedSseEvent[]): unknown => {
  const end = events.find(e => e.event === 'end');
  return end && JSON.parse(end.data);
};

/** Reads an SSE run stream to its end (or `stopAfterEvents` events: a client that drops). */
export const readRun = async (
  app: INestApplication | string,
  path: string,
  options: { lastEventId?: string; stopAfterEvents?: number } = {},
): Promise<RawResponse & { events: ParsedSseEvent[] }> => {
  const { lastEventId, stopAfterEvents } = options;
  const res = await rawRequest(app, path, {
    headers: lastEventId !== undefined ? { 'last-event-id': lastEventId } : {},
    ...(stopAfterEvents !== undefined && {
      onData: body => eventsOf(body).length >= stopAfterEvents,
    }),
  });
  const events = eventsOf(res.body);
  return { ...res, events: stopAfterEvents ? events.slice(0, stopAfterEvents) : events };
};
