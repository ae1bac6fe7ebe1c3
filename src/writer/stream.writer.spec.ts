import type { IncomingMessage, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { constants as zlibConstants, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { StreamClosedError } from '../flush.errors.js';
import { StreamWriter, type StreamWriterOptions } from './stream.writer.js';

/** A response that records what is written and can stop accepting writes (a client not reading). */
class FakeResponse extends Writable {
  statusCode = 200;
  headersSent = false;
  readonly headers = new Map<string, string>();
  readonly writes: Buffer[] = [];
  private stalled: (() => void)[] | undefined;

  constructor() {
    super({ highWaterMark: 64, decodeStrings: false });
  }

  setHeader(name: string, value: string): this {
    this.headers.set(name.toLowerCase(), value);
    return this;
  }
  removeHeader(name: string): void {
    this.headers.delete(name.toLowerCase());
  }
  getHeader(name: string): string | undefined {
    return this.headers.get(name.toLowerCase());
  }
  flushHeaders(): void {
    this.headersSent = true;
  }
  /** Stops calling back writes until `resume()`. */
  stall(): void {
    this.stalled ??= [];
  }
  resume(): void {
    const waiting = this.stalled ?? [];
    this.stalled = undefined;
    waiting.forEach(callback => callback());
  }
  override _write(chunk: unknown, _encoding: BufferEncoding, callback: () => void): void {
    this.writes.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    if (this.stalled) this.stalled.push(callback);
    else callback();
  }
  get body(): string {
    return Buffer.concat(this.writes).toString();
  }
  /** The body so far, un-gzipped up to the last sync flush. */
  get gunzipped(): string {
    const raw = Buffer.concat(this.writes);
    try {
      return gunzipSync(raw, { finishFlush: zlibConstants.Z_SYNC_FLUSH }).toString();
    } catch {
      return ''; // not even a whole gzip header yet
    }
  }
}

const fakeRequest = { httpVersionMajor: 1, method: 'GET', headers: {}, socket: null };

const OPTIONS: StreamWriterOptions = {
  heartbeatIntervalMs: false,
  heartbeatChunk: ':\n\n',
  maxQueuedBytes: 1024,
  slowClientPolicy: 'disconnect',
};

const make = (options: Partial<StreamWriterOptions> = {}) => {
  const res = new FakeResponse();
  const hooks = { heartbeat: jest.fn(), dropped: jest.fn(), slowClient: jest.fn() };
  const writer = new StreamWriter(
    fakeRequest as unknown as IncomingMessage,
    res as unknown as ServerResponse,
    { ...OPTIONS, ...options },
    hooks,
  );
  return { res, writer, hooks };
};

/** Lets process.nextTick flushes and write callbacks run. */
const settle = () => new Promise<void>(resolve => setImmediate(resolve));

describe('StreamWriter', () => {
  it('sends the headers, then everything written in one tick as one write', async () => {
    const { res, writer } = make();
    writer.open(200, { 'content-type': 'text/event-stream' }, 'retry: 1\n\n');
    expect(res.headersSent).toBe(true);
    expect(res.getHeader('content-type')).toBe('text/event-stream');
    void writer.write('a');
    void writer.write('b');
    writer.push('c');
    await settle();
    expect(res.writes.map(String)).toEqual(['retry: 1\n\nabc']);
  });

  it('holds what a source produces before the headers, and sends the preamble first', async () => {
    const { res, writer } = make();
    writer.push('early');
    await settle();
    expect(res.writes).toEqual([]);
    writer.open(200, {}, '\n');
    await settle();
    expect(res.body).toBe('\nearly');
  });

  it('makes a pull source wait while the client does not read, and go on once it does', async () => {
    const { res, writer } = make();
    writer.open(200, {});
    res.stall();
    let waited: Promise<void> | undefined;
    for (let i = 0; i < 100 && !waited; i++) waited = writer.write('x'.repeat(16 * 1024));
    expect(waited).toBeInstanceOf(Promise);
    let released = false;
    void waited!.then(() => (released = true));
    await settle();
    expect(released).toBe(false);
    res.resume();
    await settle();
    await settle();
    expect(released).toBe(true);
  });

  it('disconnects a push client past maxQueuedBytes (policy disconnect)', async () => {
    const { res, writer, hooks } = make();
    writer.open(200, {});
    res.stall();
    for (let i = 0; i < 20 && !writer.closed; i++) {
      writer.push('y'.repeat(200));
      await settle();
    }
    expect(writer.closed).toBe(true);
    expect(res.destroyed).toBe(true);
    expect(hooks.slowClient).toHaveBeenCalledTimes(1);
  });

  it.each(['drop-newest', 'drop-oldest'] as const)(
    'tells the client how many frames %s dropped, before the next frames (resume promise)',
    async policy => {
      const notice = (count: number) => `event: resync\ndata: {"dropped":${count}}\n\n`;
      const { res, writer, hooks } = make({ slowClientPolicy: policy, dropNotice: notice });
      writer.open(200, {});
      await settle();
      res.stall();
      writer.push('first\n');
      await settle(); // handed to the stalled response
      for (let i = 0; i < 50; i++) writer.push(`frame-${i}-${'z'.repeat(90)}\n`);
      const dropped = hooks.dropped.mock.calls.reduce((sum, [n]) => sum + Number(n), 0);
      expect(dropped).toBeGreaterThan(0);
      res.resume();
      await settle();
      await settle();
      writer.push('after\n');
      await settle();
      const body = res.body;
      expect(body).toContain(notice(dropped));
      expect(body.indexOf(notice(dropped))).toBeLessThan(body.indexOf('after'));
      expect(body.match(/event: resync/g)).toHaveLength(1);
      if (policy === 'drop-oldest') expect(body).toContain('frame-49-');
      else expect(body).toContain('frame-0-');
    },
  );

  it('ends with a last chunk; later writes are refused', async () => {
    const { res, writer } = make();
    writer.open(200, {});
    writer.push('a');
    writer.end('bye');
    await settle();
    expect(res.body).toBe('abye');
    expect(res.writableEnded).toBe(true);
    expect(writer.closed).toBe(true);
    await expect(writer.write('late')).rejects.toBeInstanceOf(StreamClosedError);
    expect(writer.push('late')).toBe(false);
  });

  it('aborts after a last chunk: the client gets it, then a reset instead of a clean end', async () => {
    const { res, writer } = make();
    writer.open(200, {});
    writer.push('a\n');
    writer.abort('{"error":{"statusCode":500}}\n');
    await settle();
    expect(res.body).toBe('a\n{"error":{"statusCode":500}}\n');
    expect(res.destroyed).toBe(true);
    expect(res.writableEnded).toBe(false);
    expect(writer.closed).toBe(true);
    expect(writer.push('late')).toBe(false);
  });

  it('gzips with a sync flush after every burst: each event is readable before the end', async () => {
    const { res, writer } = make({ compress: true });
    writer.open(200, {});
    expect(res.getHeader('content-encoding')).toBe('gzip');
    expect(res.getHeader('vary')).toBe('accept-encoding');
    // zlib compresses on the thread pool: poll until the flushed bytes arrive, bounded by time
    // (not by a count of turns: on a busy machine the pool can take longer than 200 turns).
    const received = async (text: string) => {
      const deadline = Date.now() + 5000;
      while (!res.gunzipped.endsWith(text) && Date.now() < deadline) {
        await new Promise(resolve => setTimeout(resolve, 5));
      }
      return res.gunzipped;
    };
    writer.push('data: 1\n\n');
    expect(await received('data: 1\n\n')).toBe('data: 1\n\n');
    writer.push('data: 2\n\n');
    expect(await received('data: 2\n\n')).toBe('data: 1\n\ndata: 2\n\n');
    expect(res.writableEnded).toBe(false);
  });

  it('runs onClose callbacks once when the client leaves', async () => {
    const { res, writer } = make();
    writer.open(200, {});
    const closed = jest.fn();
    writer.onClose(closed);
    res.destroy();
    await settle();
    expect(closed).toHaveBeenCalledTimes(1);
    expect(writer.closed).toBe(true);
    const late = jest.fn();
    writer.onClose(late);
    expect(late).toHaveBeenCalledTimes(1);
  });

  describe('heartbeats', () => {
    beforeEach(() => {
      jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    });
    afterEach(() => {
      jest.useRealTimers();
    });

    it('sends one after each whole interval of silence: within 10 % of the configured interval', () => {
      const { writer, hooks } = make({ heartbeatIntervalMs: 15000 });
      writer.open(200, {});
      jest.advanceTimersByTime(75000);
      // 75 s of silence at 15 s: 5 heartbeats (the issue measured 8 when checks ran at half period).
      expect(hooks.heartbeat.mock.calls.length).toBeGreaterThanOrEqual(4);
      expect(hooks.heartbeat.mock.calls.length).toBeLessThanOrEqual(5);
      writer.end();
    });

    it('sends none while the stream is busy, and the first one an interval after the last write', () => {
      const { writer, hooks } = make({ heartbeatIntervalMs: 1000 });
      writer.open(200, {});
      for (let i = 0; i < 30; i++) {
        writer.push('data\n');
        jest.advanceTimersByTime(200);
      }
      expect(hooks.heartbeat).not.toHaveBeenCalled();
      jest.advanceTimersByTime(650); // 850 ms since the last write
      expect(hooks.heartbeat).not.toHaveBeenCalled();
      jest.advanceTimersByTime(200);
      expect(hooks.heartbeat).toHaveBeenCalledTimes(1);
      writer.end();
    });
  });
});
