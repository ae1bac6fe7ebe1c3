export { FlushTestingModule } from './flush-testing.module.js';
export { parseSseStream, type ParsedSseEvent, type ParsedSseStream } from './sse-stream.parser.js';
export {
  baseUrl,
  readNdjson,
  readSse,
  readText,
  type StreamReadOptions,
  type StreamReadResult,
  type StreamTarget,
} from './stream.reader.js';
export { RecordingFlushTransport } from './recording.transport.js';
