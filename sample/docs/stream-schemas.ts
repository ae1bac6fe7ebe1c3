import type { SchemaObject } from '@nestjs/swagger';

// The payloads of the sample's stream events, as OpenAPI schemas for `@ApiFlush()` (schema
// objects rather than DTO classes: the sample's payloads are interfaces).

const object = (properties: Record<string, SchemaObject>, description?: string): SchemaObject => ({
  type: 'object',
  properties,
  required: Object.keys(properties),
  ...(description && { description }),
});
const number: SchemaObject = { type: 'number' };
const string: SchemaObject = { type: 'string' };

export const TICK_SCHEMA = object(
  {
    seq: number,
    at: number,
    quotes: {
      type: 'array',
      items: object({ symbol: string, price: number, change: number, changePct: number }),
    },
  },
  'One tick of the fake market',
);

/** The hub's resync notice: events may have been missed, refetch the state. */
export const RESYNC_SCHEMA = object({
  channel: string,
  lastEventId: string,
  reason: { type: 'string', enum: ['history', 'gap', 'cursor'] },
});

export const CHAT_MESSAGE_SCHEMA = object({ user: string, text: string, at: number });

export const WELCOME_SCHEMA = object(
  { now: number, resumedFrom: { type: 'string', nullable: true } },
  'First event: the server time of the subscription',
);

const ORDER_SCHEMA: SchemaObject = { type: 'object', description: 'An order of the board' };

export const BOARD_EVENTS: Record<string, SchemaObject> = {
  snapshot: object(
    {
      orders: { type: 'array', items: ORDER_SCHEMA },
      alerts: { type: 'array', items: {} },
      rev: {},
    },
    'The board as loaded, first',
  ),
  'order-created': object({ rev: number, order: ORDER_SCHEMA }),
  'order-updated': object({ rev: number, order: ORDER_SCHEMA }),
  alert: object({ rev: number, alert: { type: 'object' } }),
  resync: RESYNC_SCHEMA,
};

/** A token of an answer (the SSE `data:` is the token's text). */
export const TOKEN_SCHEMA: SchemaObject = {
  type: 'string',
  description: 'One token of the answer',
};

export const RUN_END_SCHEMA = object(
  { status: { type: 'string', enum: ['completed', 'cancelled', 'expired', 'failed'] } },
  "The run's last event",
);

export const EXPORT_ROW_SCHEMA = object({
  id: number,
  customer: string,
  country: string,
  plan: { type: 'string', enum: ['free', 'team', 'enterprise'] },
  amount: number,
  createdAt: string,
  progress: { type: 'number', minimum: 0, maximum: 1 },
});

export const CHAT_COMPLETION_CHUNK_SCHEMA: SchemaObject = {
  type: 'object',
  description: 'An OpenAI chat.completion.chunk (then `data: [DONE]`)',
};
