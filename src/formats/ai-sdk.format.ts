import { randomUUID } from 'node:crypto';
import {
  DONE_FRAME,
  jsonFrame,
  unsupportedItem,
  type FlushEndStatus,
  type FlushFormatError,
  type FlushFormatSession,
  type FlushWireFormat,
} from './flush-wire-format.js';

/** Fixed parts of a session, for byte-exact tests. @internal */
export interface AiSdkSessionOptions {
  /** The `messageId` of the `start` part. @default `msg-<uuid>` */
  readonly messageId?: string;
}

/** Parts after which no text of the step follows: the open text part is closed first. */
const CLOSES_TEXT = new Set(['finish-step', 'finish', 'abort']);

/**
 * The Vercel AI SDK UI message stream, v1 (what `useChat` and `DefaultChatTransport` read): JSON
 * parts as SSE `data:` lines, ended by `data: [DONE]`. The stream begins with a `start` part
 * (the producer's own when its first item is one), strings become `text-delta` parts of a text
 * part opened with `text-start` and closed with `text-end`, objects are parts written as they are
 * (the open text part is closed before a `finish-step`, `finish` or `abort`). Normal end:
 * `text-end`, `finish` (unless the producer sent one), `[DONE]`. Failure: an `error` part, then
 * `[DONE]`, as the SDK's own `createUIMessageStream()` ends. Cancelled or expired: `text-end`,
 * an `abort` part with the status as reason, `[DONE]`.
 * @see https://github.com/vercel/ai/blob/main/packages/ai/src/ui-message-stream/ui-message-chunks.ts
 * @see https://ai-sdk.dev/docs/ai-sdk-ui/stream-protocol
 * @internal
 */
export const createAiSdkSession = (options: AiSdkSessionOptions = {}): FlushFormatSession => {
  const messageId = options.messageId ?? `msg-${randomUUID()}`;
  let started = false;
  let finished = false;
  let textParts = 0;
  let openText: string | undefined;
  const start = (): string => {
    if (started) return '';
    started = true;
    return jsonFrame({ type: 'start', messageId });
  };
  const closeText = (): string => {
    if (openText === undefined) return '';
    const frame = jsonFrame({ type: 'text-end', id: openText });
    openText = undefined;
    return frame;
  };
  return {
    encode(item) {
      if (typeof item === 'string') {
        let out = start();
        if (openText === undefined) {
          openText = `text-${++textParts}`;
          out += jsonFrame({ type: 'text-start', id: openText });
        }
        return out + jsonFrame({ type: 'text-delta', id: openText, delta: item });
      }
      const type = (item as { type?: unknown } | null)?.type;
      if (typeof type !== 'string' || Array.isArray(item))
        throw unsupportedItem(
          'ai-sdk',
          'strings (text deltas) and UI message parts ({ type, … })',
          item,
        );
      const frame = jsonFrame(item); // first: an item JSON cannot encode changes nothing
      let out = '';
      if (type === 'start') started = true;
      else out += start();
      if (CLOSES_TEXT.has(type)) out += closeText();
      if (type === 'finish') finished = true;
      return out + frame;
    },
    end(status: FlushEndStatus, error?: FlushFormatError) {
      switch (status) {
        case 'completed':
          return (
            closeText() +
            start() +
            (finished ? '' : jsonFrame({ type: 'finish', finishReason: 'stop' })) +
            DONE_FRAME
          );
        case 'failed':
          return (
            jsonFrame({ type: 'error', errorText: error?.message ?? 'Internal server error' }) +
            DONE_FRAME
          );
        default:
          return closeText() + jsonFrame({ type: 'abort', reason: status }) + DONE_FRAME;
      }
    },
  };
};

/**
 * `@Flush({ format: 'ai-sdk' })`: the headers of the SDK's `UI_MESSAGE_STREAM_HEADERS`.
 * @see https://github.com/vercel/ai/blob/main/packages/ai/src/ui-message-stream/ui-message-stream-headers.ts
 * @internal
 */
export const AI_SDK_FORMAT: FlushWireFormat = {
  headers: { 'x-vercel-ai-ui-message-stream': 'v1' },
  createSession: () => createAiSdkSession(),
};
