import type { SseEvent } from './sse-event.interface.js';

const LINE_BREAK = /\r\n|\r|\n/;
// CR and LF would start a new field; NUL makes browsers ignore an id (WHATWG 9.2.6).
const FIELD_FORBIDDEN = /[\r\n\0]/g;

/**
 * Turns a payload into the text of the `data:` field: strings as they are, bytes decoded as
 * UTF-8, `undefined` as the empty string, anything else through `JSON.stringify` (so `0`,
 * `false` and `null` survive, and a BigInt or a circular object throws a `TypeError`).
 * @publicApi
 */
export const encodeData = (data: unknown): string => {
  if (typeof data === 'string') return data;
  if (data === undefined) return '';
  if (data instanceof Uint8Array) return Buffer.from(data).toString('utf8');
  const json = JSON.stringify(data) as string | undefined;
  return json ?? '';
};

const prefixLines = (text: string, prefix: string): string => {
  if (!LINE_BREAK.test(text)) return `${prefix}${text}\n`;
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += `${prefix}${line}\n`;
  return out;
};

/** Removes CR, LF and NUL from a single-line field value. @publicApi */
export const sanitizeField = (value: string | number): string =>
  String(value).replace(FIELD_FORBIDDEN, '');

/**
 * Serializes one event per the WHATWG event-stream format: `event`, `id`, `retry`, comment
 * and `data` lines (NestJS's order), ended by a blank line. `data` is split on CR, LF and CRLF; `id` and
 * `event` lose CR, LF and NUL, so no payload can inject a field.
 * Throws a `TypeError` when `data` cannot be JSON-encoded (BigInt, circular).
 * @example serializeSseEvent({ event: 'tick', data: 'a\nb' }) // 'event: tick\ndata: a\ndata: b\n\n'
 * @publicApi
 */
export const serializeSseEvent = (event: SseEvent): string => {
  let out = '';
  const name = event.type ?? event.event;
  if (name !== undefined && name !== null && name !== '') out += `event: ${sanitizeField(name)}\n`;
  if (event.id !== undefined && event.id !== null) {
    const id = sanitizeField(event.id);
    // An empty `id:` resets the client's Last-Event-ID: an id made only of stripped characters
    // (which a browser would have ignored) leaves the position alone instead.
    if (id !== '' || String(event.id) === '') out += `id: ${id}\n`;
  }
  if (event.retry !== undefined && event.retry !== null) {
    const retry = Math.floor(Number(event.retry));
    if (Number.isFinite(retry) && retry >= 0) out += `retry: ${retry}\n`;
  }
  if (event.comment !== undefined && event.comment !== null) {
    out += prefixLines(String(event.comment), ': ');
  }
  if ('data' in event || out === '') out += prefixLines(encodeData(event.data), 'data: ');
  return `${out}\n`;
};

/** Serializes a comment-only frame (a heartbeat, a note), ignored by clients. @publicApi */
export const serializeSseComment = (comment = ''): string =>
  comment === '' ? ':\n\n' : `${prefixLines(comment, ': ')}\n`;

/** Serializes a `retry:` hint alone. @publicApi */
export const serializeSseRetry = (retryMs: number): string =>
  `retry: ${Math.max(0, Math.floor(retryMs))}\n\n`;
