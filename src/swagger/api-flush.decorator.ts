import { applyDecorators, type Type } from '@nestjs/common';
import {
  ApiExtraModels,
  ApiOkResponse,
  ApiProduces,
  getSchemaPath,
  type ReferenceObject,
  type SchemaObject,
} from '@nestjs/swagger';
import { FlushConfigurationError } from '../flush.errors.js';
import { describeValue } from '../flush.messages.js';

/** The formats `@ApiFlush()` documents (the wire formats of `@Flush()` and `@Sse()`). @publicApi */
export type ApiFlushFormat = 'sse' | 'ndjson' | 'text';

/** Options of `@ApiFlush()`. @publicApi */
export interface ApiFlushOptions {
  /**
   * The route's wire format, as given to `@Flush()` (`@Sse()` routes: `'sse'`).
   * @default 'sse'
   */
  format?: ApiFlushFormat;
  /**
   * The route's events: each name with its payload, a DTO class (documented as a component
   * schema, referenced with `$ref`) or an OpenAPI schema object. On SSE routes the name is the
   * `event:` field (`message` for events without one); on NDJSON and text routes names only
   * title the alternatives of a line or chunk.
   */
  events: Record<string, Type<unknown> | SchemaObject>;
}

/** The media type of each format, without parameters (OpenAPI content keys). */
const MEDIA_TYPES: Record<ApiFlushFormat, string> = {
  sse: 'text/event-stream',
  ndjson: 'application/x-ndjson',
  text: 'text/plain',
};

/**
 * Documents a streaming route in the OpenAPI document of `@nestjs/swagger`: a 200 response of the
 * format's media type whose items are the route's events, each named, with its payload schema.
 * The media type carries both `itemSchema` (OpenAPI 3.2's schema of one item of a sequential
 * media type: one SSE event, one NDJSON line) and, for OpenAPI 3.0/3.1 tools that do not read
 * it, the same schema as `schema` (described as one item of the stream). Built with
 * `applyDecorators` from `ApiProduces`, `ApiExtraModels` and `ApiOkResponse`.
 * @example
 * @Sse('news') @ApiFlush({ events: { headline: HeadlineDto, removed: { type: 'object', properties: { id: { type: 'string' } } } } })
 * @example
 * @Flush({ format: 'ndjson' }) @ApiFlush({ format: 'ndjson', events: { row: RowDto } })
 * @publicApi
 */
export const ApiFlush = (options: ApiFlushOptions): MethodDecorator & ClassDecorator => {
  const format = options?.format ?? 'sse';
  const mediaType = MEDIA_TYPES[format];
  if (!mediaType)
    throw new FlushConfigurationError(
      `@ApiFlush() "format" must be 'sse', 'ndjson' or 'text'; received ${describeValue(format)}.`,
    );
  const events = options?.events;
  if (typeof events !== 'object' || events === null || Object.keys(events).length === 0)
    throw new FlushConfigurationError(
      `@ApiFlush() "events" must name at least one event: { [name]: DtoClass | SchemaObject }; received ${describeValue(events)}.`,
    );
  const models = Object.values(events).filter(
    (payload): payload is Type<unknown> => typeof payload === 'function',
  );
  const item = itemSchema(format, events);
  return applyDecorators(
    ApiProduces(mediaType),
    ...(models.length > 0 ? [ApiExtraModels(...models)] : []),
    ApiOkResponse({
      description: `A stream (${mediaType}) of the events ${Object.keys(events).join(', ')}.`,
      content: {
        [mediaType]: {
          schema: {
            ...item,
            description:
              `One item of the stream (OpenAPI < 3.2 has no itemSchema). ${item.description ?? ''}`.trim(),
          },
          itemSchema: item,
        } as never,
      },
    }),
  );
};

/** The schema of one payload: a `$ref` to a DTO's component schema, or the schema given. */
const payloadSchema = (payload: Type<unknown> | SchemaObject): SchemaObject | ReferenceObject =>
  typeof payload === 'function' ? { $ref: getSchemaPath(payload) } : payload;

/** The schema of one item of the stream: one of the events. */
const itemSchema = (format: ApiFlushFormat, events: ApiFlushOptions['events']): SchemaObject => {
  const alternatives = Object.entries(events).map(([name, payload]): SchemaObject => {
    if (format !== 'sse') return { title: name, ...asSchema(payloadSchema(payload)) };
    return {
      title: name,
      type: 'object',
      required: name === 'message' ? ['data'] : ['event', 'data'],
      properties: {
        event: { type: 'string', enum: [name] },
        // SSE carries the payload as JSON text in `data:`; the schema is that of the JSON.
        data: payloadSchema(payload),
        id: { type: 'string', description: 'The resume position (Last-Event-ID).' },
        retry: { type: 'integer', description: 'Reconnection delay hint, in milliseconds.' },
      },
    };
  });
  const one = alternatives.length === 1 ? alternatives[0] : { oneOf: alternatives };
  return format === 'sse'
    ? { ...one, description: 'One server-sent event; `data` is the JSON of the payload.' }
    : format === 'ndjson'
      ? { ...one, description: 'One line: the JSON of one event.' }
      : { ...one, description: 'One chunk of text.' };
};

/** A `$ref` cannot have siblings in OpenAPI 3.0: wrap it. */
const asSchema = (schema: SchemaObject | ReferenceObject): SchemaObject =>
  '$ref' in schema ? { allOf: [schema] } : schema;
