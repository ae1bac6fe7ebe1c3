// Jest resolver (jest.config.js `resolver`): lets a CommonJS package in node_modules require() an
// ES-module-only one, as Node does since 20.19 but Jest (on Node 20) does not: Jest throws "Must
// use import to load ES Module". Since NestJS 12.6, @nestjs/platform-fastify's @fastify/middie
// 9.3.9 require()s path-to-regexp 9, which is ESM only. Such a require() is served a CommonJS
// copy of the same package built by esbuild into .artifacts/jest-require-esm/ (test-only: the
// package and Node itself are unchanged; esbuild is vite's). import() and ESM-to-ESM imports
// resolve as usual.
const { createHash } = require('node:crypto');
const { existsSync, mkdirSync, readFileSync } = require('node:fs');
const { dirname, join, sep } = require('node:path');

const cacheDir = join(__dirname, '../../.artifacts/jest-require-esm');

/** The type of the package a file belongs to ('module' or 'commonjs'), from its package.json. */
const packageTypeOf = file => {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, 'utf8')).type ?? 'commonjs';
  }
  return 'commonjs';
};

module.exports = (request, options) => {
  const resolved = options.defaultResolver(request, options);
  const isRequire =
    options.conditions?.includes('require') && !options.conditions.includes('import');
  if (
    !isRequire ||
    !resolved.endsWith('.js') ||
    !resolved.includes(`${sep}node_modules${sep}`) ||
    !options.basedir.includes(`${sep}node_modules${sep}`) ||
    packageTypeOf(resolved) !== 'module'
  ) {
    return resolved;
  }
  const source = readFileSync(resolved);
  const out = join(
    cacheDir,
    `${createHash('sha256').update(resolved).update(source).digest('hex').slice(0, 16)}.cjs`,
  );
  if (!existsSync(out)) {
    mkdirSync(cacheDir, { recursive: true });
    require('esbuild').buildSync({
      entryPoints: [resolved],
      outfile: out,
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      logLevel: 'error',
    });
  }
  return out;
};
