/**
 * Typed JSON for assertions. `JSON.parse` returns `any`, which type-aware lint (the no-unsafe-*
 * rules) rejects wherever it flows; these return `unknown` (for matchers such as `toEqual`), or
 * the shape a test states when it reads a field. That shape is the test's claim, not a runtime
 * check: assert the parsed value (or the field read from it) as usual.
 */

/** Parses JSON text: `unknown` unless the test names the shape it expects. */
export const parseJson = <T = unknown>(text: string): T => JSON.parse(text) as T;

/** The parsed `data` of each SSE event (as `readSse()` / `parseSseStream()` return them). */
export const sseData = <T = unknown>(events: readonly { data: string }[]): T[] =>
  events.map(e => parseJson<T>(e.data));
