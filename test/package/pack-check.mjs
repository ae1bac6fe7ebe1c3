#!/usr/bin/env node
// Checks what `npm pack` would publish (run `npm run build` first; `npm test` does):
// - every source map resolves: each of its sources is inlined (`sourcesContent`) or shipped, and
//   every `sourceMappingURL` names a shipped map (stack traces under `node --enable-source-maps`
//   and "go to definition" must land on files that exist);
// - LICENSE, README.md and CHANGELOG.md are in it, and package.json says where the repository is;
// - every `exports` target is shipped, and every entry point has its `typesVersions` fallback
//   (TypeScript's `moduleResolution: node10` ignores `exports`);
// - README.md links only to files in the package, anchors or absolute URLs: a relative link to a
//   repository file (`test/...`, `.ci/run`) is dead on npmjs.com.
import { readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { packageJson, packDryRun, root } from './packed.mjs';

const info = packDryRun();
const shipped = new Set(info.files.map(file => file.path));
const problems = [];

// Source maps.
let maps = 0;
for (const path of shipped) {
  if (path.endsWith('.js') || path.endsWith('.d.ts')) {
    const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(
      readFileSync(join(root, path), 'utf8'),
    )?.[1];
    if (url && !url.startsWith('data:') && !shipped.has(posix.join(posix.dirname(path), url))) {
      problems.push(`${path} names the source map ${url}, which is not in the package.`);
    }
  }
  if (!path.endsWith('.map')) continue;
  maps++;
  const map = JSON.parse(readFileSync(join(root, path), 'utf8'));
  map.sources.forEach((source, i) => {
    if (typeof map.sourcesContent?.[i] === 'string') return;
    const resolved = posix.normalize(posix.join(posix.dirname(path), map.sourceRoot ?? '', source));
    if (!shipped.has(resolved)) {
      problems.push(
        `${path} points at ${source} (${resolved}): neither inlined nor in the package.`,
      );
    }
  });
}

// Licence and metadata.
for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json']) {
  if (!shipped.has(file)) problems.push(`${file} is not in the package.`);
}
for (const field of ['repository', 'homepage', 'bugs', 'license']) {
  if (!packageJson[field]) problems.push(`package.json has no "${field}".`);
}

// Entry points.
const typesVersions = packageJson.typesVersions?.['*'] ?? {};
for (const [subpath, target] of Object.entries(packageJson.exports)) {
  const targets = typeof target === 'string' ? [target] : Object.values(target);
  for (const file of targets) {
    if (!shipped.has(posix.normalize(file))) {
      problems.push(`exports["${subpath}"] points at ${file}, which is not in the package.`);
    }
  }
  if (subpath === './package.json') continue;
  if (subpath === '.') {
    if (posix.normalize(packageJson.types ?? '') !== posix.normalize(target.types)) {
      problems.push(
        `package.json "types" must be exports["."].types (${target.types}) for node10.`,
      );
    }
    continue;
  }
  const fallback = typesVersions[subpath.slice(2)] ?? [];
  if (!fallback.map(p => posix.normalize(p)).includes(posix.normalize(target.types))) {
    problems.push(
      `typesVersions["*"]["${subpath.slice(2)}"] must list ${target.types}: ` +
        `under moduleResolution node10 TypeScript ignores exports["${subpath}"].`,
    );
  }
}

// README links.
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const links = [
  ...readme.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g),
  ...readme.matchAll(/^\s*\[[^\]]+\]:\s*(\S+)/gm),
  ...readme.matchAll(/\b(?:href|src)="([^"]+)"/g),
].map(match => match[1]);
for (const link of new Set(links)) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('#')) continue;
  const file = posix.normalize(link.split('#')[0]);
  if (!shipped.has(file)) {
    problems.push(
      `README.md links to ${link}, which is not in the package (a dead link on npmjs.com): ` +
        'use https://github.com/nestjs-flush/nestjs-flush/blob/main/… or move it to CONTRIBUTING.md.',
    );
  }
}

const kB = bytes => `${(bytes / 1024).toFixed(1)} kB`;
if (problems.length > 0) {
  console.error(problems.map(p => `  ✕ ${p}`).join('\n'));
  console.error(`pack-check: FAILED (${problems.length} problem(s))`);
  process.exit(1);
}
console.log(
  `pack-check: ok, ${info.entryCount} files, ${kB(info.size)} packed (${kB(info.unpackedSize)} unpacked); ` +
    `${maps} source maps resolve; LICENSE, README links, ${Object.keys(packageJson.exports).length} exports and typesVersions ok`,
);
