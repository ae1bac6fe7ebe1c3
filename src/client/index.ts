// The `nestjs-flush/client` entry point: browsers and Node >= 20, no dependencies, nothing from
// NestJS or Node's built-ins (lint rule), so that a bundler ships only this folder.
export {
  FlushClient,
  type FlushClientOptions,
  type FlushClientState,
  type FlushEventMeta,
  type FlushResyncInfo,
  type FlushStateDetail,
} from './flush-client.js';
export { createSseParser, type FlushSseEvent } from './sse.parser.js';
