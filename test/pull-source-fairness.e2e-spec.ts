import { expect } from '@jest/globals';
import { request } from 'node:http';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Flush, FlushModule } from '../src/index.js';
import { baseUrl } from '../src/testing/index.js';
import { platforms, startApp } from './utils/platforms.js';

/** Rows of the fast source: together far more than loopback socket buffers take at once. */
const ROWS = 50_000;
const PAD = 'x'.repeat(100);

/** How far the fast source got: read by the test when the client sees the headers. */
const progress = { yielded: 0 };

@Controller('fair')
class FairController {
  /** A pull source that never waits: every row is ready at once (a cursor over a cache). */
  @Get('rows')
  @Flush({ format: 'ndjson' })
  async *rows() {
    for (let i = 0; i < ROWS; i++) {
      progress.yielded = i + 1;
      yield { i, pad: PAD };
    }
  }
}

@Module({
  imports: [FlushModule.forRoot({ heartbeatIntervalMs: false })],
  controllers: [FairController],
})
class FairModule {}

/**
 * A pull source whose items are all ready at once is read one batch per turn of the event loop:
 * the rest of the process (other connections, timers, a client in the same process) runs between
 * batches. Before the fix, the kernel took batch after batch in one macrotask and the source was
 * read to its end (100 000 rows) before an in-process client saw the status line.
 */
describe.each(platforms)('a fast pull source shares the event loop (%s)', platform => {
  let app: INestApplication;

  beforeAll(async () => {
    app = await startApp(platform, [FairModule]);
  });

  afterAll(() => app.close());

  it('the headers and a timer of the process come while most rows are still unread', async () => {
    progress.yielded = 0;
    let yieldedAtTimer = -1;
    const result = await new Promise<{ status?: number; atHeaders: number; rows: number[] }>(
      (resolve, reject) => {
        const rows: number[] = [];
        let rest = '';
        const req = request(`${baseUrl(app)}/fair/rows`, res => {
          const atHeaders = progress.yielded;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const lines = (rest + chunk).split('\n');
            rest = lines.pop() ?? '';
            for (const line of lines) rows.push((JSON.parse(line) as { i: number }).i);
          });
          res.on('end', () => resolve({ status: res.statusCode, atHeaders, rows }));
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end();
        // Fires at the first timers phase once the request is under way.
        const poll = (): void => {
          if (progress.yielded === 0) return void setTimeout(poll, 0);
          yieldedAtTimer = progress.yielded;
        };
        setTimeout(poll, 0);
      },
    );

    expect(result.status).toBe(200);
    expect(result.atHeaders).toBeLessThan(ROWS / 4);
    expect(yieldedAtTimer).toBeGreaterThan(0);
    expect(yieldedAtTimer).toBeLessThan(ROWS / 4);
    // Nothing lost, nothing repeated, in order.
    expect(result.rows).toHaveLength(ROWS);
    expect(result.rows.every((value, index) => value === index)).toBe(true);
  }, 30_000);
});
