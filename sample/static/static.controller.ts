import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Controller, Get, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';

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

/**
 * The built browser client (`nestjs-flush/client`: `dist/client/*.js`, ES modules with relative
 * imports), served to the page as `/client/index.js`. `npm start` builds it first; from the
 * sources (ts-jest) and from `dist-sample/` alike it is `../../dist/client/` of this folder.
 * `FLUSH_SAMPLE_CLIENT` overrides it. Checked on the first request, not at import: a page test
 * that needs it fails with this message, the others run without a build.
 */
export const clientDir = (): string => {
  const dir =
    process.env.FLUSH_SAMPLE_CLIENT ??
    fileURLToPath(new URL('../../dist/client/', import.meta.url));
  if (!existsSync(`${dir}/index.js`))
    throw new Error(`${dir}/index.js not found: run \`npm run build\` (nestjs-flush/client)`);
  return dir.endsWith('/') ? dir : `${dir}/`;
};

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
@ApiExcludeController()
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

  /** `nestjs-flush/client` as the browser imports it: `import { FlushClient } from '/client/index.js'`. */
  @Get('client/:file')
  client(@Param('file') file: string, @Res() res: ReplyLike): Promise<void> {
    if (extname(file) !== '.js') throw new NotFoundException();
    return this.serve(file, res, clientDir());
  }

  private async serve(file: string, res: ReplyLike, dir = PUBLIC_DIR): Promise<void> {
    const type = TYPES[extname(file)];
    if (!FILE_NAME.test(file) || type === undefined) throw new NotFoundException();
    const path = dir + file;
    let body = this.cache.get(path);
    if (!body) {
      body = await readFile(path).catch(() => undefined);
      if (!body) throw new NotFoundException();
      // Re-read on every request while developing; cache in production.
      if (process.env.NODE_ENV === 'production') this.cache.set(path, body);
    }
    res.status(200).header('Content-Type', type).header('Cache-Control', 'no-cache').send(body);
  }
}
