/**
 * Serializes one value as an NDJSON line: `JSON.stringify(value) + '\n'`. `undefined` becomes
 * `null` so that every item yields exactly one line. Throws a `TypeError` for BigInt or circular
 * values. JSON never contains a raw line break, so a value can never split into two lines.
 * @see https://github.com/ndjson/ndjson-spec
 * @publicApi
 */
export const serializeNdjsonLine = (value: unknown): string =>
  `${JSON.stringify(value === undefined ? null : value)}\n`;
