// The package as a user gets it: the tarball `npm pack` makes from the built `dist/`, unpacked
// into a fresh project's node_modules. The project's other dependencies (@nestjs/*, rxjs,
// typescript…) are symlinks to this repository's installs, so no registry is needed.
import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
export const packageJson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));

const npm = args =>
  execFileSync('npm', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** What `npm pack` would put in the tarball: `{ filename, size, unpackedSize, entryCount, files }`. */
export const packDryRun = () => JSON.parse(npm(['pack', '--dry-run', '--json']))[0];

/** Packs the package (from the current `dist/`; run `npm run build` first) into a temp folder. */
export const pack = () => {
  const destination = mkdtempSync(join(tmpdir(), 'nestjs-flush-pack-'));
  const [info] = JSON.parse(npm(['pack', '--json', '--pack-destination', destination]));
  return { tarball: join(destination, info.filename), info };
};

/** The import specifiers of every entry point in package.json `exports` (`nestjs-flush/testing`…). */
export const entryPoints = () =>
  Object.keys(packageJson.exports)
    .filter(subpath => subpath !== './package.json')
    .map(subpath => packageJson.name + subpath.slice(1));

/**
 * A fresh project in `dir`: `files` (path → content) written, the tarball unpacked in
 * node_modules/nestjs-flush, every other package of this repository's node_modules symlinked
 * but those `without` names (`@nestjs`, `rxjs`: a project that does not have them).
 */
export const makeProject = (dir, tarball, files, without = []) => {
  const modules = join(dir, 'node_modules');
  const unpacked = join(modules, packageJson.name);
  mkdirSync(unpacked, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
  for (const name of readdirSync(join(root, 'node_modules'))) {
    if (name === packageJson.name || name.startsWith('.') || without.includes(name)) continue;
    symlinkSync(join(root, 'node_modules', name), join(modules, name), 'dir');
  }
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(
      join(dir, path),
      typeof content === 'string' ? content : JSON.stringify(content, null, 2),
    );
  }
  return dir;
};

/** The TypeScript compiler of this repository, run on `project` (a tsconfig path) in `cwd`. */
export const tsc = (cwd, args) =>
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
