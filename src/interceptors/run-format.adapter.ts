import { HttpException, HttpStatus } from '@nestjs/common';
import { FlushHubEvent } from '../broadcast/flush-hub-event.js';
import type {
  FlushEndStatus,
  FlushFormatError,
  FlushFormatSession,
} from '../formats/flush-wire-format.js';
import { FlushRunNotFoundError } from '../runs/flush-run.errors.js';
import { FLUSH_RUN_END_EVENT } from '../runs/flush-runs.service.js';

const END_STATUSES: readonly string[] = ['completed', 'cancelled', 'failed', 'expired'];

/** What a run's `end` event says: its status, and the sanitized message of a failure. */
const readEnd = (data: string): { status: FlushEndStatus; error?: FlushFormatError } => {
  try {
    const end = JSON.parse(data) as { status?: unknown; message?: unknown };
    const status = END_STATUSES.includes(String(end.status))
      ? (end.status as FlushEndStatus)
      : 'failed';
    return status === 'failed'
      ? {
          status,
          error: {
            statusCode: 500,
            message: typeof end.message === 'string' ? end.message : 'Internal server error',
          },
        }
      : { status };
  } catch {
    return { status: 'failed', error: { statusCode: 500, message: 'Internal server error' } };
  }
};

/**
 * A run item as its producer yielded it: the hub carries strings as they are and anything else
 * as JSON, so a JSON object's text is read back as the object (an OpenAI chunk, an AI SDK part)
 * and every other text is a string (a token). A token that is itself the text of a JSON object
 * would be read as an object: yield such text inside a part instead.
 */
const runItem = (data: string): unknown => {
  if (!data.startsWith('{')) return data;
  try {
    const value: unknown = JSON.parse(data);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : data;
  } catch {
    return data;
  }
};

/**
 * The session of a format with its own ending ('openai', 'ai-sdk') when the route streams a run
 * (`hub.run()` / `hub.attach()`): each hub event of the run is written as the producer's item
 * in that format, and the run's `end` event becomes the format's own ending for its status
 * (written once: the stream's normal end after it adds nothing). Anything else passes through.
 * @internal
 */
export const runAwareSession = (session: FlushFormatSession): FlushFormatSession => {
  let ended = false;
  return {
    encode: item => {
      if (!(item instanceof FlushHubEvent)) return session.encode(item);
      if (item.type === FLUSH_RUN_END_EVENT) {
        ended = true;
        const { status, error } = readEnd(String(item.data));
        return session.end(status, error);
      }
      return session.encode(runItem(String(item.data)));
    },
    end: (status, error) => (ended ? '' : ((ended = true), session.end(status, error))),
  };
};

/**
 * On an 'ai-sdk' route, an unknown or expired run answers 204 instead of 404: what the AI SDK's
 * `resume` (a GET that finds nothing to resume) expects. @internal
 */
export const runErrorForFormat = (format: string, err: unknown): unknown =>
  format === 'ai-sdk' && err instanceof FlushRunNotFoundError
    ? new HttpException('', HttpStatus.NO_CONTENT)
    : err;
