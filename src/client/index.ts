// The `nestjs-flush/client` entry point: browsers and Node >= 20, no dependencies, nothing from
// NestJS or Node's built-ins (lint rule), so that a bundler ships only this folder.
export { FlushClient } from './flush-client.js';
export type {
  FlushClientEvents,
  FlushClientOptions,
  FlushClientState,
  FlushControlEvents,
  FlushEventMeta,
  FlushEventsOf,
  FlushResyncInfo,
  FlushRetryOptions,
  FlushStateDetail,
} from './flush-client.types.js';
export { createSseParser, type FlushSseEvent } from './sse.parser.js';
