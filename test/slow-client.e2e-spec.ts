import { expect } from '@jest/globals';
import { request, type IncomingMessage } from 'node:http';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Subject, type Observable } from 'rxjs';
import { Flush, FlushMetrics, FlushModule } from '../src/index.js';
import { baseUrl, parseSseStream } from '../src/testing/index.js';
import { platforms, startApp } from './utils/platforms.js';
import { recordingLogger } from './utils/logger.js';
import { waitFor } from './utils/wait.js';

/** The bound of each route: a few frames, far below what loopback socket buffers hold. */
const BOUND = 64 * 1024;
/** Each frame carries this much padding, so a few frames pass the bound. */
const PAD = 'x'.repeat(16 * 1024);

interface Frame {
  i: number | 'after';
  pad?: string;
}

/** The push source of the stream in flight: the test decides when each frame is produced. */
const feed: { current?: Subject<Frame> } = {};
const open = (): Observable<Frame> => (feed.current = new Subject<Frame>());

@Controller('slow')
class SlowController {
  @Get('sse/drop-oldest')
  @Flush({ maxQueuedBytes: BOUND, slowClientPolicy: 'drop-oldest' })
  sseDropOldest() {
    return open();
  }

  @Get('sse/drop-newest')
  @Flush({ maxQueuedBytes: BOUND, slowClientPolicy: 'drop-newest' })
  sseDropNewest() {
    return open();
  }

  @Get('ndjson/drop-oldest')
  @Flush({ format: 'ndjson', maxQueuedBytes: BOUND, slowClientPolicy: 'drop-oldest' })
  ndjsonDropOldest() {
    return open();
  }

  @Get('ndjson/drop-newest')
  @Flush({ format: 'ndjson', maxQueuedBytes: BOUND, slowClientPolicy: 'drop-newest' })
  ndjsonDropNewest() {
    return open();
  }
}

@Module({
  imports: [FlushModule.forRoot({ heartbeatIntervalMs: false })],
  controllers: [SlowController],
})
class SlowModule {}

/** What the client got, in order: frame numbers, 'after', and drop notices with their count. */
type Item = { frame: number | 'after' } | { dropped: number };

const itemsOf = (format: 'sse' | 'ndjson', body: string): Item[] => {
  if (format === 'sse') {
    return parseSseStream(body).events.map(e => {
      if (e.event === 'resync') {
        const notice = JSON.parse(e.data) as { reason: string; dropped: number };
        expect(notice).toEqual({ reason: 'dropped', dropped: expect.any(Number) });
        return { dropped: notice.dropped };
      }
      return { frame: (JSON.parse(e.data) as Frame).i };
    });
  }
  return body
    .slice(0, body.lastIndexOf('\n') + 1) // whole lines only: the last may still be arriving
    .split('\n')
    .filter(line => line !== '')
    .map(line => {
      const value = JSON.parse(line) as Frame | { resync: { reason: string; dropped: number } };
      if ('resync' in value) {
        expect(value.resync).toEqual({ reason: 'dropped', dropped: expect.any(Number) });
        return { dropped: value.resync.dropped };
      }
      return { frame: value.i };
    });
};

describe.each(platforms)('slow clients on @Flush() push sources (%s)', platform => {
  let app: INestApplication;
  const logger = recordingLogger();
  beforeAll(async () => {
    app = await startApp(platform, [SlowModule], a => a.useLogger(logger));
  });
  afterAll(() => app?.close());

  describe.each(['sse', 'ndjson'] as const)('%s', format => {
    it.each(['drop-oldest', 'drop-newest'] as const)(
      '%s: a client that stops reading is told how many frames it lost before any later frame',
      async policy => {
        const metrics = app.get(FlushMetrics);
        const droppedBefore = metrics.framesDropped;
        const logBefore = logger.lines.length;
        feed.current = undefined;

        // The client reads nothing at first: its socket buffers fill, then nestjs-flush's queue.
        let body = '';
        let response: IncomingMessage | undefined;
        const req = request(`${baseUrl(app)}/slow/${format}/${policy}`, res => {
          response = res;
          res.pause();
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (body += chunk));
        });
        req.on('error', () => undefined);
        req.end();
        await waitFor(() => response !== undefined && feed.current !== undefined, 'the stream');
        const source = feed.current!;
        expect(response!.statusCode).toBe(200);

        // Frames until the policy drops some (kernel buffers take several MiB first, varying by
        // run); a producer that lets I/O run between batches.
        let produced = 0;
        await waitFor(
          async () => {
            // Two frames a tick: one tick's writes stay below the bound (a burst above it in one
            // tick would be dropped even for a fast client).
            for (let k = 0; k < 2; k++) source.next({ i: produced++, pad: PAD });
            await yieldToIo();
            return metrics.framesDropped > droppedBefore;
          },
          `the ${policy} policy to drop a frame (${produced} produced)`,
          20_000,
          0,
        );
        // A few more while the client still reads nothing: several frames lost, one notice.
        for (let tick = 0; tick < 4; tick++) {
          for (let k = 0; k < 2; k++) source.next({ i: produced++, pad: PAD });
          await yieldToIo();
        }
        const dropped = metrics.framesDropped - droppedBefore;
        expect(dropped).toBeGreaterThan(1);

        // The client reads again: the notice is written with the next frames, before them.
        response!.resume();
        await waitFor(
          () => itemsOf(format, body).some(item => 'dropped' in item),
          'the drop notice',
          10_000,
        );
        source.next({ i: 'after' });
        await waitFor(
          () => itemsOf(format, body).some(item => 'frame' in item && item.frame === 'after'),
          'the frame produced after the client caught up',
          10_000,
        );
        source.complete();
        req.destroy();

        const items = itemsOf(format, body);
        const frames = items.flatMap(item =>
          'frame' in item && typeof item.frame === 'number' ? [item.frame] : [],
        );
        const notices = items.flatMap(item => ('dropped' in item ? [item.dropped] : []));
        // Nothing lost silently: what did not arrive is what the notices count, and the metrics.
        expect(notices.reduce((a, b) => a + b, 0)).toBe(dropped);
        expect(frames.length + dropped).toBe(produced);
        // Order kept, no duplicates.
        for (let k = 1; k < frames.length; k++) expect(frames[k]).toBeGreaterThan(frames[k - 1]);
        // The first notice comes before every frame newer than the first one lost.
        const firstLost = [...Array(produced).keys()].find(i => !frames.includes(i))!;
        const noticeAt = items.findIndex(item => 'dropped' in item);
        const firstNewerAt = items.findIndex(
          item => 'frame' in item && typeof item.frame === 'number' && item.frame > firstLost,
        );
        if (firstNewerAt >= 0) expect(noticeAt).toBeLessThan(firstNewerAt);
        // drop-oldest keeps the newest frame; drop-newest drops the frame that did not fit.
        if (policy === 'drop-oldest') expect(frames).toContain(produced - 1);
        else expect(frames).not.toContain(produced - 1);
        expect(items.at(-1)).toEqual({ frame: 'after' });
        // One warning per notice, naming the route, the policy and the count (issue 17, 11).
        const drops = logger.lines.slice(logBefore).filter(l => l.includes('Slow client on'));
        expect(drops).toEqual(
          notices.map(n =>
            expect.stringMatching(
              new RegExp(
                `^warn: Slow client on SlowController\\.\\w+\\(\\): ${policy} dropped ${n} frame`,
              ),
            ),
          ),
        );
      },
      40_000,
    );
  });
});
