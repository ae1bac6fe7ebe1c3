import {
  encodeData,
  serializeSseComment,
  serializeSseEvent,
  serializeSseRetry,
} from './sse.serializer.js';

describe('serializeSseEvent', () => {
  it.each([
    ['a string as it is', { data: 'hello' }, 'data: hello\n\n'],
    ['multi-line data on LF', { data: 'a\nb' }, 'data: a\ndata: b\n\n'],
    ['a lone CR as a line break', { data: 'a\rb' }, 'data: a\ndata: b\n\n'],
    ['CRLF as one line break', { data: 'a\r\nb' }, 'data: a\ndata: b\n\n'],
    ['a trailing line break as an empty line', { data: 'a\n' }, 'data: a\ndata: \n\n'],
    ['the empty string', { data: '' }, 'data: \n\n'],
    ['0', { data: 0 }, 'data: 0\n\n'],
    ['false', { data: false }, 'data: false\n\n'],
    ['null', { data: null }, 'data: null\n\n'],
    ['an object as JSON', { data: { i: 1 } }, 'data: {"i":1}\n\n'],
    ['unicode untouched', { data: 'é ✓ 😀 \u2028' }, 'data: é ✓ 😀 \u2028\n\n'],
    ['NUL in data untouched', { data: 'a\0b' }, 'data: a\0b\n\n'],
    ['data starting with a colon as data', { data: ':not a comment' }, 'data: :not a comment\n\n'],
    [
      'event, id and retry first, in NestJS order',
      { data: 'x', id: '7', type: 'tick', retry: 1500 },
      'event: tick\nid: 7\nretry: 1500\ndata: x\n\n',
    ],
    ['event as an alias of type', { data: 'x', event: 'e' }, 'event: e\ndata: x\n\n'],
    ['a comment', { comment: 'hi', data: 'x' }, ': hi\ndata: x\n\n'],
  ])('serializes %s', (_name, event, expected) => {
    expect(serializeSseEvent(event)).toBe(expected);
  });

  it('never lets id or event inject a field (CR, LF and NUL are stripped)', () => {
    const out = serializeSseEvent({
      id: '1\nevent: evil\r\0',
      type: 'x\r\ndata: injected',
      data: 'ok',
    });
    expect(out).toBe('event: xdata: injected\nid: 1event: evil\ndata: ok\n\n');
    expect(out.split('\n').filter(l => l.startsWith('data:'))).toEqual(['data: ok']);
  });

  it('ignores an invalid retry', () => {
    expect(serializeSseEvent({ data: 'x', retry: -1 })).toBe('data: x\n\n');
  });

  it('throws a TypeError for data JSON cannot encode', () => {
    expect(() => serializeSseEvent({ data: { n: 1n } })).toThrow(TypeError);
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(() => serializeSseEvent({ data: circular })).toThrow(TypeError);
  });
});

describe('helpers', () => {
  it('serializes comments and retry hints', () => {
    expect(serializeSseComment()).toBe(':\n\n');
    expect(serializeSseComment('a\nb')).toBe(': a\n: b\n\n');
    expect(serializeSseRetry(2500.7)).toBe('retry: 2500\n\n');
  });

  it('encodes data', () => {
    expect(encodeData(undefined)).toBe('');
    expect(encodeData(Buffer.from('bytes'))).toBe('bytes');
    expect(encodeData([1, 'a'])).toBe('[1,"a"]');
  });

  it('never sends an empty id made of stripped characters (it would reset Last-Event-ID)', () => {
    expect(serializeSseEvent({ id: '\0', data: 'x' })).toBe('data: x\n\n');
    expect(serializeSseEvent({ id: 'a\0b', data: 'x' })).toBe('id: ab\ndata: x\n\n');
    expect(serializeSseEvent({ id: '', data: 'x' })).toBe('id: \ndata: x\n\n');
  });
});
