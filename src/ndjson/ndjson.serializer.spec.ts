import { serializeNdjsonLine } from './ndjson.serializer.js';

describe('serializeNdjsonLine', () => {
  it('writes one JSON value per line, never splitting on line breaks inside values', () => {
    expect(serializeNdjsonLine({ a: 'x\ny\r\n' })).toBe('{"a":"x\\ny\\r\\n"}\n');
    expect(serializeNdjsonLine('s')).toBe('"s"\n');
    expect(serializeNdjsonLine(0)).toBe('0\n');
    expect(serializeNdjsonLine(undefined)).toBe('null\n');
  });

  it('throws for values JSON cannot encode', () => {
    expect(() => serializeNdjsonLine({ n: 1n })).toThrow(TypeError);
  });
});
