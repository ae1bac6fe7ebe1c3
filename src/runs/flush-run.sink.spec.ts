import { describe, expect, it } from '@jest/globals';
import { of } from 'rxjs';
import { pumpSource } from '../writer/stream-source.util.js';
import { FlushRunSink, FlushRunTooLongError } from './flush-run.sink.js';

const encode = (item: unknown) => (typeof item === 'string' ? item : JSON.stringify(item));

describe('FlushRunSink', () => {
  it('publishes pulled and pushed items in order', async () => {
    const published: string[] = [];
    const pulled = new FlushRunSink(async data => void published.push(data), 10);
    await pumpSource(
      (async function* () {
        yield 'a';
        yield { b: 1 };
      })(),
      pulled,
      encode,
    );
    const pushed = new FlushRunSink(async data => void published.push(data), 10);
    await pumpSource(of('c', 'd'), pushed, encode);
    await pushed.drained();
    expect(published).toEqual(['a', '{"b":1}', 'c', 'd']);
  });

  it('fails past maxEvents and stops the producer', async () => {
    const published: string[] = [];
    let stopped = false;
    const sink = new FlushRunSink(async data => void published.push(data), 2);
    const source = (async function* () {
      try {
        for (let i = 0; ; i++) yield String(i);
      } finally {
        stopped = true;
      }
    })();
    // The sink closes itself (the producer stops) and keeps the error for the run's end.
    await pumpSource(source, sink, encode);
    expect(sink.error).toBeInstanceOf(FlushRunTooLongError);
    expect(published).toEqual(['0', '1']);
    expect(stopped).toBe(true);
    expect(sink.closed).toBe(true);
  });

  it('close() stops the producer and drops what was not published', async () => {
    const published: string[] = [];
    const sink = new FlushRunSink(async data => void published.push(data), 100);
    const source = (async function* () {
      for (let i = 0; ; i++) {
        if (i === 3) sink.close();
        yield String(i);
      }
    })();
    await pumpSource(source, sink, encode);
    expect(published).toEqual(['0', '1', '2']);
  });
});
