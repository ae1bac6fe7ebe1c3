import {
  decodeEntry,
  decodeMessage,
  decodeReplayReply,
  encodeEntry,
  toTransportEvent,
} from './redis-event.codec.js';

// No Redis needed: the codec works on the values ioredis hands over.

/** What the publish script announces: the entry with `"id":"…",` spliced in after the `{`. */
const announce = (id: string, entry: string): string => `{"id":"${id}",${entry.slice(1)}`;

describe('Redis event codec', () => {
  it('encodes the stream entry with the event name only when there is one', () => {
    expect(encodeEntry({ data: 'x' })).toBe('{"data":"x"}');
    expect(encodeEntry({ event: 'tick', data: 'x' })).toBe('{"event":"tick","data":"x"}');
  });

  it('keeps the target key of a targeted event, and rejects one that is not a string', () => {
    expect(encodeEntry({ data: 'x', to: 'alice' })).toBe('{"data":"x","to":"alice"}');
    const entry = encodeEntry({ event: 'e', data: 'x', to: 'a"l\nice' });
    expect(decodeEntry(['1-0', ['m', entry]])).toEqual({
      id: '1-0',
      event: 'e',
      data: 'x',
      to: 'a"l\nice',
    });
    expect(decodeMessage(announce('1-0', entry))).toMatchObject({ to: 'a"l\nice' });
    expect(decodeEntry(['1-0', ['m', '{"data":"x","to":7}']])).toBeUndefined();
  });

  it('round-trips payloads byte for byte through the stream and through Pub/Sub', () => {
    const data = 'line 1\nline 2\r\n"quoted" \\ \u2028 é 🚀 \u0000';
    for (const message of [{ data }, { event: 'e v"ent', data }, { data, to: 'k' }]) {
      const entry = encodeEntry(message);
      const expected = toTransportEvent('1700000000000-3', message);
      expect(decodeEntry(['1700000000000-3', ['m', entry]])).toEqual(expected);
      expect(decodeMessage(announce('1700000000000-3', entry))).toEqual(expected);
    }
  });

  it('builds the transport event without an undefined event field', () => {
    expect(toTransportEvent('1-0', { data: 'd' })).toStrictEqual({ id: '1-0', data: 'd' });
    expect(toTransportEvent('1-0', { event: 'e', data: 'd' })).toStrictEqual({
      id: '1-0',
      event: 'e',
      data: 'd',
    });
  });

  it('finds the field m among other fields of a stream entry', () => {
    expect(decodeEntry(['2-0', ['x', 'y', 'm', '{"data":"ok"}']])).toEqual({
      id: '2-0',
      data: 'ok',
    });
  });

  it.each<[string, unknown]>([
    ['not an array', 'x'],
    ['an id that is not a string', [2, ['m', '{"data":"x"}']]],
    ['fields that are not an array', ['1-0', 'm']],
    ['no field m', ['1-0', ['n', '{"data":"x"}']]],
    ['a field m without a value', ['1-0', ['m']]],
    ['malformed JSON', ['1-0', ['m', '{"data"']]],
    ['JSON that is not an object', ['1-0', ['m', '"x"']]],
    ['data that is not a string', ['1-0', ['m', '{"data":7}']]],
    ['an event name that is not a string', ['1-0', ['m', '{"event":1,"data":"x"}']]],
  ])('skips a stream entry with %s', (_, entry) => {
    expect(decodeEntry(entry)).toBeUndefined();
  });

  it.each([
    ['not JSON', 'not json'],
    ['null', 'null'],
    ['no id', '{"data":"x"}'],
    ['an id that is not a string', '{"id":1,"data":"x"}'],
    ['data that is not a string', '{"id":"1-0","data":7}'],
    ['an event name that is not a string', '{"id":"1-0","event":false,"data":"x"}'],
  ])('ignores a Pub/Sub message with %s', (_, message) => {
    expect(decodeMessage(message)).toBeUndefined();
  });

  it('decodes the replies of the replay script', () => {
    expect(decodeReplayReply(null)).toBeUndefined(); // no stream
    expect(decodeReplayReply(['5-0'])).toEqual({ lastId: '5-0', entries: undefined });
    const entries = [['3-0', ['m', '{"data":"a"}']]];
    expect(decodeReplayReply(['5-0', entries])).toEqual({ lastId: '5-0', entries });
    expect(decodeReplayReply([null])).toEqual({ lastId: undefined, entries: undefined });
  });
});
