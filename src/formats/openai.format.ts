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

/** The `model` of generated chunks when the route sets none. @internal */
export const OPENAI_DEFAULT_MODEL = 'nestjs-flush';

/** Fixed parts of a session, for byte-exact tests. @internal */
export interface OpenAiSessionOptions {
  readonly model?: string;
  /** The chunk id. @default `chatcmpl-<uuid without dashes>` */
  readonly id?: string;
  /** Unix seconds. @default now */
  readonly created?: number;
}

interface ChunkLike {
  choices?: { delta?: { role?: unknown }; finish_reason?: unknown }[];
}

/**
 * OpenAI's Chat Completions stream (`stream: true`): each string becomes a
 * `chat.completion.chunk` whose `choices[0].delta.content` is the string (the first one also
 * carries `role: 'assistant'`); an object is a chunk the producer built and goes out as it is.
 * Normal end: a chunk with an empty delta and `finish_reason: 'stop'` (unless the producer sent a
 * finish_reason), then `data: [DONE]`. Failure: `data: {"error":{message,type,param,code}}` and
 * the end, which openai-node raises as an `APIError`. Cancelled or expired: `data: [DONE]` without
 * a finish_reason.
 * @see https://platform.openai.com/docs/api-reference/chat-streaming
 * @see https://github.com/openai/openai-node/blob/master/src/core/streaming.ts
 * @internal
 */
export const createOpenAiSession = (options: OpenAiSessionOptions = {}): FlushFormatSession => {
  const id = options.id ?? `chatcmpl-${randomUUID().replaceAll('-', '')}`;
  const created = options.created ?? Math.floor(Date.now() / 1000);
  const model = options.model ?? OPENAI_DEFAULT_MODEL;
  let roleSent = false;
  let finished = false;
  const chunk = (delta: Record<string, string>, finishReason: string | null): string => {
    if (!roleSent) {
      delta = { role: 'assistant', ...delta };
      roleSent = true;
    }
    return jsonFrame({
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      choices: [{ index: 0, delta, finish_reason: finishReason }],
    });
  };
  return {
    encode(item) {
      if (typeof item === 'string') return chunk({ content: item }, null);
      if (
        item === null ||
        typeof item !== 'object' ||
        Array.isArray(item) ||
        ArrayBuffer.isView(item)
      )
        throw unsupportedItem('openai', 'strings (content deltas) and chunk objects', item);
      const frame = jsonFrame(item);
      for (const choice of (item as ChunkLike).choices ?? []) {
        if (choice?.delta?.role !== undefined) roleSent = true;
        if (choice?.finish_reason != null) finished = true;
      }
      return frame;
    },
    end(status: FlushEndStatus, error?: FlushFormatError) {
      switch (status) {
        case 'completed':
          return (finished ? '' : chunk({}, 'stop')) + DONE_FRAME;
        case 'failed':
          return jsonFrame({
            error: {
              message: error?.message ?? 'Internal server error',
              type: (error?.statusCode ?? 500) < 500 ? 'invalid_request_error' : 'server_error',
              param: null,
              code: null,
            },
          });
        default:
          return DONE_FRAME;
      }
    },
  };
};

/** `@Flush({ format: 'openai' })`. @internal */
export const OPENAI_FORMAT: FlushWireFormat = {
  headers: {},
  createSession: ({ model }) => createOpenAiSession({ model }),
};
