import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
};

/**
 * `sample/public/`, found both from the sources (sample/static/, under ts-jest) and from the
 * compiled sample (dist-sample/static/). `FLUSH_SAMPLE_PUBLIC` overrides it.
 */
export const PUBLIC_DIR = ((): string => {
  const candidates = [
    process.env.FLUSH_SAMPLE_PUBLIC,
    fileURLToPath(new URL('../public/', import.meta.url)),
    fileURLToPath(new URL('../../sample/public/', import.meta.url)),
  ];
  const found = candidates.find(dir => dir && existsSync(`${dir}/index.html`));
  if (!found)
    throw new Error(
      `sample/public/index.html not found (looked in ${candidates.filter(Boolean).join(', ')})`,
    );
  return found.endsWith('/') ? found : `${found}/`;
})();

/** File names served, e.g. `app.js`: letters, digits, dots, dashes, no path. */
const FILE_NAME = /^[a-z0-9][a-z0-9.-]*$/i;

/** The parts of express' `Response` and fastify's `FastifyReply` used here (both have them). */
interface ReplyLike {
  status(code: number): ReplyLike;
  header(name: string, value: string): ReplyLike;
  send(body: Buffer): unknown;
}

/**
 * Serves the demo page and its assets on both adapters (no platform-specific static middleware,
 * no extra package). `@Res()` means Nest sends nothing itself, so the global envelope
 * interceptor's result is dropped for these routes: the files go out as they are.
 */
@Controller()
export class StaticController {
  private readonly cache = new Map<string, Buffer>();

  @Get()
  index(@Res() res: ReplyLike): Promise<void> {
    return this.serve('index.html', res);
  }

  @Get(':file')
  file(@Param('file') file: string, @Res() res: ReplyLike): Promise<void> {
    return this.serve(file, res);
  }

  private async serve(file: string, res: ReplyLike): Promise<void> {
    const type = TYPES[extname(file)];
    if (!FILE_NAME.test(file) || type === undefined) throw new NotFoundException();
    let body = this.cache.get(file);
    if (!body) {
      body = await readFile(PUBLIC_DIR + file).catch(() => undefined);
      if (!body) throw new NotFoundException();
      // Re-read on every request while developing; cache in production.
      if (process.env.NODE_ENV === 'production') this.cache.set(file, body);
    }
    res.status(200).header('Content-Type', type).header('Cache-Control', 'no-cache').send(body);
  }
}
