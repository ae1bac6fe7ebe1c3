import { FlushValidationError } from '../flush-validation.error.js';
import { formatFlushCursor, parseFlushCursor } from './flush-cursor.js';

describe('composite stream cursor', () => {
  it('writes each channel position in base36, in sorted channel order, and reads it back', () => {
    const cursor = formatFlushCursor({
      'orders/42': '1718000000000-3',
      news: '1718000000001-0',
      empty: undefined,
    });
    expect(cursor).toMatch(/^c1\.[0-9a-z]+\._\.lx8kuby9\.lx8kuby8-3$/);
    expect(parseFlushCursor(cursor, ['news', 'orders/42', 'empty'])).toEqual({
      empty: undefined,
      news: '1718000000001-0',
      'orders/42': '1718000000000-3',
    });
  });

  it('round-trips ids of 16 digits each, beyond double precision', () => {
    const id = '9999999999999999-9007199254740993';
    const cursor = formatFlushCursor({ a: id, b: '0-0' });
    expect(parseFlushCursor(cursor, ['b', 'a'])).toEqual({ a: id, b: '0-0' });
  });

  it('fits 8 channels of 200-character names in the Last-Event-ID limit', () => {
    const positions = Object.fromEntries(
      Array.from({ length: 8 }, (_, i) => [
        `${i}`.padEnd(200, 'x'),
        '9999999999999999-9999999999999999',
      ]),
    );
    expect(formatFlushCursor(positions).length).toBeLessThanOrEqual(256);
  });

  it('returns undefined for a cursor of another channel list', () => {
    const cursor = formatFlushCursor({ a: '1-0', b: '2-0' });
    expect(parseFlushCursor(cursor, ['a', 'c'])).toBeUndefined();
    expect(parseFlushCursor(cursor, ['a'])).toBeUndefined();
  });

  it.each([
    '',
    '1-0',
    'c1',
    'c1.abc',
    'c2.abc.1',
    'c1.ABC.1',
    'c1.abc.1.',
    'c1.abc.-1',
    'c1.abc.1-',
    `c1.abc.${'z'.repeat(12)}`,
    'c1.abc.zzzzzzzzzzz',
    `c1.abc${'.1'.repeat(33)}`,
  ])('rejects the malformed cursor %j with a FlushValidationError', bad => {
    expect(() => parseFlushCursor(bad, ['a'])).toThrow(FlushValidationError);
  });

  it('refuses to write a position that is not an event id', () => {
    expect(() => formatFlushCursor({ a: 'nope' })).toThrow(FlushValidationError);
  });
});
