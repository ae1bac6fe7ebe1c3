import { encodeData, serializeSseEvent } from '../sse/sse.serializer.js';
import { createSseParser, type FlushSseEvent } from './sse.parser.js';

/** Parses `text` fed in `chunks` pieces of `size` characters (all at once by default). */
const parse = (text: string, size = text.length || 1, lastEventId = '') => {
  const events: FlushSseEvent[] = [];
  const retries: number[] = [];
  const feed = createSseParser(
    e => events.push(e),
    ms => retries.push(ms),
    lastEventId,
  );
  let last = lastEventId;
  for (let i = 0; i < text.length; i += size) last = feed(text.slice(i, i + size));
  return { events, retries, last };
};

/** Every way of cutting `text` in two: the result must not depend on where chunks end. */
const everySplit = (text: string) => {
  const whole = parse(text);
  for (let cut = 0; cut <= text.length; cut++) {
    const events: FlushSseEvent[] = [];
    const feed = createSseParser(e => events.push(e));
    feed(text.slice(0, cut));
    feed(text.slice(cut));
    expect(events).toEqual(whole.events);
  }
  return whole;
};

describe('createSseParser', () => {
  // The serializer spec's rows, read back: what the server writes is what the client gets.
  it.each([
    ['a string as it is', { data: 'hello' }, 'hello'],
    ['multi-line data on LF', { data: 'a\nb' }, 'a\nb'],
    ['a lone CR as a line break', { data: 'a\rb' }, 'a\nb'],
    ['CRLF as one line break', { data: 'a\r\nb' }, 'a\nb'],
    ['a trailing line break as an empty line', { data: 'a\n' }, 'a\n'],
    ['the empty string', { data: '' }, ''],
    ['0', { data: 0 }, '0'],
    ['null', { data: null }, 'null'],
    ['an object as JSON', { data: { i: 1 } }, '{"i":1}'],
    ['unicode untouched', { data: 'é ✓ 😀 \u2028' }, 'é ✓ 😀 \u2028'],
    ['NUL in data untouched', { data: 'a\0b' }, 'a\0b'],
    ['data starting with a colon as data', { data: ':not a comment' }, ':not a comment'],
    ['a comment', { comment: 'hi', data: 'x' }, 'x'],
  ])('reads back the serializer row "%s"', (_name, event, data) => {
    const { events } = everySplit(serializeSseEvent(event));
    expect(events).toEqual([{ event: 'message', data, id: undefined, lastEventId: '' }]);
    expect(data).toBe(encodeData(event.data).replace(/\r\n?/g, '\n'));
  });

  it('reads event, id and retry in any order', () => {
    const text = serializeSseEvent({ data: 'x', id: '7', type: 'tick', retry: 1500 });
    const { events, retries, last } = everySplit(text);
    expect(events).toEqual([{ event: 'tick', data: 'x', id: '7', lastEventId: '7' }]);
    expect(retries).toEqual([1500]);
    expect(last).toBe('7');
  });

  it('ends lines on CR, LF and CRLF, also split across chunks', () => {
    const text = 'data: a\r\ndata: b\rdata: c\n\r\nevent: e\rdata: d\r\r';
    const { events } = everySplit(text);
    expect(events.map(e => [e.event, e.data])).toEqual([
      ['message', 'a\nb\nc'],
      ['e', 'd'],
    ]);
    expect(parse(text, 1).events).toEqual(events);
  });

  it('strips one leading BOM and only at the start of the stream', () => {
    expect(parse('\uFEFFdata: x\n\n', 1).events.map(e => e.data)).toEqual(['x']);
    // A second BOM is part of the field name: an unknown field, ignored.
    expect(parse('\uFEFF\uFEFFdata: x\n\n').events).toEqual([]);
    expect(parse('data: x\n\n\uFEFFdata: y\n\n').events.map(e => e.data)).toEqual(['x']);
  });

  it('follows the field rules: one space stripped, no colon, unknown fields, comments', () => {
    const { events } = everySplit(
      'data:no space\ndata:  two spaces\ndata\nfoo: bar\n: a comment\n:\n\n',
    );
    expect(events.map(e => e.data)).toEqual(['no space\n two spaces\n']);
  });

  it('dispatches nothing for an event without data, and never an unterminated event', () => {
    const { events, last } = parse('event: e\n\nid: 3\n\ndata: tail');
    expect(events).toEqual([]);
    // An id-only event still moves the last event ID; the unterminated one never dispatches.
    expect(last).toBe('3');
    expect(parse('data: x\nid: 9').last).toBe('');
  });

  it('keeps the last event ID across events, ignores an id with NUL, resets on an empty id', () => {
    const { events, last } = parse(
      'id: 1\ndata: a\n\ndata: b\n\nid: 2\0x\ndata: c\n\nid\ndata: d\n\n',
      3,
      'start',
    );
    expect(events.map(e => [e.data, e.id, e.lastEventId])).toEqual([
      ['a', '1', '1'],
      ['b', undefined, '1'],
      ['c', undefined, '1'],
      ['d', '', ''],
    ]);
    expect(last).toBe('');
    expect(parse('data: x\n\n', undefined, 'start').events[0].lastEventId).toBe('start');
  });

  it('accepts retry made of ASCII digits only', () => {
    expect(
      parse('retry: 250\nretry: 1.5\nretry: -1\nretry: x\nretry:\nretry:0\n\n').retries,
    ).toEqual([250, 0]);
  });
});
