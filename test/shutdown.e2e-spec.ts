import { Agent, request, type IncomingMessage } from 'node:http';
import { connect, constants, Http2ServerResponse, type ClientHttp2Session } from 'node:http2';
import type { INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { baseUrl } from '../src/testing/index.js';
import { SHUTDOWN_ROUTES, shutdownModule } from './fixtures/shutdown/shutdown.controller.js';
import { platforms, startApp } from './utils/platforms.js';

interface OpenStream {
  path: string;
  body: () => string;
  ended: Promise<void>;
}

/** Opens a stream through `agent` and resolves once its headers arrived. */
const openStream = (app: INestApplication, path: string, agent: Agent): Promise<OpenStream> =>
  new Promise((resolve, reject) => {
    let body = '';
    const req = request(`${baseUrl(app)}${path}`, { agent }, (res: IncomingMessage) => {
      let done!: () => void;
      const ended = new Promise<void>(r => (done = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', done);
      res.on('close', done);
      // The headers are out: the stream is open (a hub stream may have no byte of body yet).
      resolve({ path, body: () => body, ended });
    });
    req.on('error', reject);
    req.end();
  });

/** What a route's body holds after shutdown, for each kind of stream. */
const expectShutdownBody = (stream: OpenStream) => {
  const body = stream.body();
  if (stream.path.includes('generator')) return; // NDJSON: no retry hint, just the end
  expect(body).toMatch(/retry: 1000\n\n$/);
  // An empty id would reset the client's Last-Event-ID (issue: "id: \nretry: N").
  expect(body).not.toMatch(/^id: *$/m);
};

describe.each(platforms)('shutdown with open streams (%s)', platform => {
  it('ends every kind of stream and closes in well under a second, with keep-alive clients', async () => {
    const app = await startApp(platform, [shutdownModule()]);
    const agent = new Agent({ keepAlive: true, maxSockets: 100 });
    try {
      // A keep-alive connection that served a plain request and now idles, plus one stream of
      // every kind, several times over.
      const streams = await Promise.all(
        [...SHUTDOWN_ROUTES, ...SHUTDOWN_ROUTES, ...SHUTDOWN_ROUTES].map(path =>
          openStream(app, path, agent),
        ),
      );
      const started = Date.now();
      await app.close();
      const took = Date.now() - started;
      await Promise.all(streams.map(s => s.ended));
      streams.forEach(expectShutdownBody);
      expect(took).toBeLessThan(1000);
    } finally {
      agent.destroy();
    }
  });
});

describe('shutdown over HTTP/2 (fastify, h2c)', () => {
  let sessions: ClientHttp2Session[] = [];
  const afterCleanup: (() => void)[] = [];
  afterEach(() => {
    sessions.forEach(s => s.destroy());
    sessions = [];
    for (const cleanup of afterCleanup.splice(0)) cleanup();
  });

  it('ends the streams, sends GOAWAY to the sessions and closes in well under a second', async () => {
    // No hop-by-hop header is set on an HTTP/2 response: Node drops it with a process warning
    // ("The provided connection header is not valid") per response.
    const setNames: string[] = [];
    const setHeader = Object.getOwnPropertyDescriptor(Http2ServerResponse.prototype, 'setHeader')!;
    Object.defineProperty(Http2ServerResponse.prototype, 'setHeader', {
      ...setHeader,
      value: function (this: Http2ServerResponse, name: string, value: string | string[]) {
        setNames.push(name.toLowerCase());
        return (setHeader.value as Http2ServerResponse['setHeader']).call(this, name, value);
      },
    });
    afterCleanup.push(() =>
      Object.defineProperty(Http2ServerResponse.prototype, 'setHeader', setHeader),
    );
    const moduleRef = await Test.createTestingModule({ imports: [shutdownModule()] }).compile();
    const app = moduleRef.createNestApplication(new FastifyAdapter({ http2: true }) as never, {
      logger: ['error', 'warn'],
    });
    await app.listen(0, '127.0.0.1');
    const url = baseUrl(app);
    const bodies: Promise<string>[] = [];
    for (const path of SHUTDOWN_ROUTES) {
      const session = connect(url);
      sessions.push(session);
      const stream = session.request({ [constants.HTTP2_HEADER_PATH]: path });
      stream.setEncoding('utf8');
      let body = '';
      bodies.push(
        new Promise<string>(resolve => {
          stream.on('data', (chunk: string) => (body += chunk));
          stream.on('close', () => resolve(body));
        }),
      );
      await new Promise<void>(resolve => stream.once('response', () => resolve()));
    }
    // A session with no stream at all.
    const idle = connect(url);
    sessions.push(idle);
    await new Promise<void>(resolve => idle.once('connect', () => resolve()));

    const started = Date.now();
    await app.close();
    const took = Date.now() - started;
    const got = await Promise.all(bodies);
    expect(got[0]).toMatch(/retry: 1000\n\n$/);
    expect(got[1]).not.toMatch(/^id: *$/m);
    expect(took).toBeLessThan(1000);
    expect(setNames).toContain('content-type');
    expect(setNames.filter(name => ['connection', 'transfer-encoding'].includes(name))).toEqual([]);
  });
});
