import type { FlushFormat } from '../writer/stream-writer.options.js';
import { AI_SDK_FORMAT } from './ai-sdk.format.js';
import type { FlushWireFormat } from './flush-wire-format.js';
import { OPENAI_FORMAT } from './openai.format.js';

/**
 * The wire formats with a framing, an ending and an error shape of their own, by name. The
 * built-in 'sse', 'ndjson' and 'text' are not here: their frames are the writer's own.
 * @internal
 */
const WIRE_FORMATS: Readonly<Partial<Record<FlushFormat, FlushWireFormat>>> = Object.freeze({
  openai: OPENAI_FORMAT,
  'ai-sdk': AI_SDK_FORMAT,
});

/** The wire format behind `format`, if it has an ending of its own. @internal */
export const wireFormatOf = (format: FlushFormat): FlushWireFormat | undefined =>
  WIRE_FORMATS[format];

/** Every format name `@Flush()` accepts. @internal */
export const FLUSH_FORMATS: readonly FlushFormat[] = ['sse', 'ndjson', 'text', 'openai', 'ai-sdk'];
