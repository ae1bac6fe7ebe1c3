#!/usr/bin/env node
// Runs the README Quickstart as printed, in the layout `nest new` (CLI 12, ESM) creates: the files
// of test/readme/quickstart-app (the README's blocks are copies of them) in a fresh app with the
// scaffold's package.json ("type": "module") and tsconfig, the packed nestjs-flush unpacked in its
// node_modules. Builds it with tsc, starts `node dist/main.js` on a free PORT, then over real
// HTTP: publishes headlines, resumes the SSE stream after a Last-Event-ID, reads the NDJSON export,
// and sends SIGTERM while a stream is open: the stream must end with a retry: hint and the process
// exit promptly. Run `npm run build` first (`npm test` does).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeProject, pack, root, tsc } from './packed.mjs';

const scaffold = {
  'package.json': {
    name: 'fresh-app',
    private: true,
    type: 'module',
    scripts: {
      build: 'nest build',
      'start:prod': 'node dist/main',
      'test:e2e': 'vitest run --config ./vitest.config.e2e.ts',
    },
  },
  'tsconfig.json': {
    compilerOptions: {
      module: 'nodenext',
      moduleResolution: 'nodenext',
      resolvePackageJsonExports: true,
      esModuleInterop: true,
      isolatedModules: true,
      declaration: true,
      removeComments: true,
      emitDecoratorMetadata: true,
      experimentalDecorators: true,
      allowSyntheticDefaultImports: true,
      target: 'ES2023',
      sourceMap: true,
      outDir: './dist',
      rootDir: '.',
      skipLibCheck: true,
      strict: true,
      strictPropertyInitialization: false,
      types: ['vitest/globals', 'node'],
    },
  },
  'tsconfig.build.json': {
    extends: './tsconfig.json',
    compilerOptions: { rootDir: './src' },
    include: ['src'],
    exclude: ['node_modules', 'test', 'dist', '**/*spec.ts'],
  },
};

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });

/** One HTTP request; resolves when `done(body)` says so (then the socket is dropped) or at the end. */
const http = (port, path, { method = 'GET', headers = {}, body, done = () => false } = {}) =>
  new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers }, res => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', chunk => {
        text += chunk;
        if (done(text)) {
          res.destroy();
          resolve({ status: res.statusCode, headers: res.headers, body: text, ended: false });
        }
      });
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: text, ended: true }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.end(body);
  });

const postJson = (port, path, value) =>
  http(port, path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(value),
  });

const started = Date.now();
const { tarball } = pack();
const dir = mkdtempSync(join(tmpdir(), 'nestjs-flush-fresh-app-'));
let app;
try {
  makeProject(dir, tarball, scaffold);
  cpSync(join(root, 'test/readme/quickstart-app'), dir, { recursive: true });
  tsc(dir, ['-p', 'tsconfig.json', '--noEmit']); // src and test, as an editor checks them
  tsc(dir, ['-p', 'tsconfig.build.json']); // what `nest build` emits: dist/main.js

  const port = await freePort();
  app = spawn(process.execPath, ['dist/main.js'], {
    cwd: dir,
    env: { ...process.env, PORT: String(port), NODE_OPTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  app.stdout.on('data', chunk => (log += chunk));
  app.stderr.on('data', chunk => (log += chunk));
  const exited = new Promise(resolve =>
    app.on('exit', (code, signal) => resolve({ code, signal })),
  );

  const deadline = Date.now() + 15_000;
  for (;;) {
    const hello = await http(port, '/').catch(() => undefined);
    if (hello?.status === 200) {
      assert.equal(hello.body, 'Hello World!', "the scaffold's own route still answers");
      break;
    }
    if (app.exitCode !== null || Date.now() > deadline)
      throw new Error(`the app did not start:\n${log}`);
    await new Promise(resolve => setTimeout(resolve, 100));
  }

  const first = await postJson(port, '/news', { title: 'a' });
  assert.equal(first.status, 201);
  await postJson(port, '/news', { title: 'b' });
  await postJson(port, '/news', { title: 'c' });
  const resumed = await http(port, '/news/stream', {
    headers: { 'last-event-id': first.body },
    done: text => (text.match(/^data: /gm) ?? []).length >= 2,
  });
  assert.equal(resumed.status, 200);
  assert.match(resumed.headers['content-type'], /^text\/event-stream/);
  assert.deepEqual(
    [...resumed.body.matchAll(/^event: (.*)\n(?:id: .*\n)?data: (.*)$/gm)].map(m => [m[1], m[2]]),
    [
      ['headline', '{"title":"b"}'],
      ['headline', '{"title":"c"}'],
    ],
    `the resumed stream:\n${resumed.body}`,
  );

  const rows = await http(port, '/export', { done: text => text.split('\n').length > 3 });
  assert.equal(rows.status, 200);
  assert.match(rows.headers['content-type'], /^application\/x-ndjson/);
  assert.deepEqual(
    rows.body
      .split('\n')
      .slice(0, 3)
      .map(line => JSON.parse(line)),
    [{ i: 0 }, { i: 1 }, { i: 2 }],
  );

  // SIGTERM with a client on the stream: enableShutdownHooks() ends it with a retry: hint at once.
  const live = await new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: '/news/stream' }, res => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', chunk => (body += chunk));
      resolve({
        status: res.statusCode,
        end: new Promise(done => res.on('end', () => done(body))),
      });
    })
      .on('error', reject)
      .end();
  });
  assert.equal(live.status, 200);
  const signalled = Date.now();
  app.kill('SIGTERM');
  const liveBody = await live.end;
  const exit = await Promise.race([
    exited,
    new Promise(resolve => setTimeout(() => resolve(undefined), 5000)),
  ]);
  assert.ok(exit, `the app did not exit within 5 s of SIGTERM:\n${log}`);
  assert.match(liveBody, /^retry: \d+$/m, `the stream ended with a retry: hint:\n${liveBody}`);
  const exitMs = Date.now() - signalled;
  app = undefined;
  console.log(
    `quickstart-app: ok, the README Quickstart built and ran as a fresh nest new app (SSE resume, NDJSON, SIGTERM exit in ${exitMs} ms) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
} catch (error) {
  console.error(error);
  console.error('quickstart-app: FAILED');
  process.exitCode = 1;
} finally {
  app?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
  rmSync(join(tarball, '..'), { recursive: true, force: true });
}
