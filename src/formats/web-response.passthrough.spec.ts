import {
  encodeBodyChunk,
  webResponseBody,
  webResponseHeaders,
} from './web-response.passthrough.js';

describe('web Response passthrough', () => {
  it('keeps the headers but the hop-by-hop ones and Content-Length; cookies stay apart', () => {
    const headers = new Headers({
      'content-type': 'text/csv',
      'content-length': '10',
      connection: 'close',
      'transfer-encoding': 'chunked',
      'x-custom': 'a',
    });
    headers.append('set-cookie', 'a=1; Path=/');
    headers.append('set-cookie', 'b=2, c');
    expect(webResponseHeaders(new Response('x', { headers }))).toEqual({
      'content-type': 'text/csv',
      'x-custom': 'a',
      'set-cookie': ['a=1; Path=/', 'b=2, c'],
      'x-accel-buffering': 'no',
    });
  });

  it('keeps the Content-Encoding of a Response the app made; X-Accel-Buffering of its own wins', () => {
    const response = new Response('x', {
      headers: { 'content-encoding': 'br', 'x-accel-buffering': 'yes' },
    });
    expect(webResponseHeaders(response)).toEqual({
      'content-encoding': 'br',
      'content-type': 'text/plain;charset=UTF-8',
      'x-accel-buffering': 'yes',
    });
  });

  it('refuses a body read already; a null body is none', async () => {
    const response = new Response('x');
    await response.text();
    expect(() => webResponseBody(response)).toThrow(/read already/);
    expect(webResponseBody(new Response(null, { status: 204 }))).toBeUndefined();
  });

  it('writes chunks as their bytes', () => {
    const bytes = new Uint8Array([0, 1, 2, 3]).subarray(1, 3);
    expect(encodeBodyChunk(bytes)).toEqual(Buffer.from([1, 2]));
    expect(encodeBodyChunk('é')).toBe('é');
    expect(encodeBodyChunk(new Uint8Array([7]).buffer)).toEqual(Buffer.from([7]));
    expect(() => encodeBodyChunk({})).toThrow(TypeError);
  });
});
