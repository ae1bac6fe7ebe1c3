#!/usr/bin/env node
// Node.js version matrix: the tests on Node 22 and 24 with Node binaries from the npm registry
// (the `node-<platform>-<arch>` packages hold the official binary), for machines that have one
// Node only.
//
//   node test/node-versions/run.mjs                 every entry: 22 24
//   node test/node-versions/run.mjs 24              only this one
//   node test/node-versions/run.mjs --no-install    reuse the binaries already in .cache/
//
// Each entry installs the latest release of its major into .cache/node<major>/ (outside the
// repository's node_modules: `npm install --prefix`), puts its bin/ first on PATH, and runs with
// it: jest's unit and e2e projects (one run, the root install of NestJS 12.6, Redis suites with
// REDIS_URL), the vitest suite and the smoke tests. It reuses dist/ as built (run `npm run build`
// first; the build's output does not depend on the Node version). The package checks
// (`npm run test:package`: npm pack and tsc in fresh projects) and the NestJS matrix run on the
// machine's own Node only: they test the package and Nest more than the runtime, and CI's time is
// capped (the GitHub workflow runs everything on each Node).
// Entries run one after another; one failing does not stop the others. Logs and Jest JSON go to
// .artifacts/node-versions/. Exit code 1 when any entry failed.
// NODE_MATRIX_TIMEOUT_S (default 1200) bounds one step; a step past it is killed.
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../utils/run-command.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const all = ['22', '24'];

const args = process.argv.slice(2);
const install = !args.includes('--no-install');
const unknownFlags = args.filter(a => a.startsWith('--') && a !== '--no-install');
const wanted = args.filter(a => !a.startsWith('--'));
if (unknownFlags.length > 0) fail(`unknown option ${unknownFlags.join(' ')} (known: --no-install)`);
for (const version of wanted) {
  if (!all.includes(version)) fail(`unknown entry ${version}: use one of ${all.join(', ')}`);
}
if (process.platform === 'win32')
  fail('the registry binaries are unpacked for Linux and macOS only');
if (!existsSync(join(root, 'dist/index.js'))) fail('dist/ is not built: run `npm run build` first');
const versions = wanted.length > 0 ? wanted : all;
const timeoutS = Number(process.env.NODE_MATRIX_TIMEOUT_S ?? 1200);
const artifacts = join(root, '.artifacts/node-versions');
mkdirSync(artifacts, { recursive: true });
const binaryPackage = `node-${process.platform}-${process.arch}`;

function fail(message) {
  console.error(`node-versions: ${message}`);
  process.exit(2);
}

const seconds = since => Math.round((Date.now() - since) / 100) / 10;

/** Runs a command from the repository root (see test/utils/run-command.mjs). */
const run = (command, commandArgs, options) =>
  runCommand(command, commandArgs, { cwd: root, ...options });

/** The output of `node --version` with this binary, or undefined. */
const versionOf = async (binary, log) => {
  if (!existsSync(binary)) return undefined;
  let out = '';
  const child = spawn(binary, ['--version'], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.on('data', chunk => (out += chunk));
  const code = await new Promise(resolve => child.on('close', resolve));
  log.write(`${binary} --version: ${out}`);
  return code === 0 ? out.trim() : undefined;
};

const failuresOf = results =>
  results.testResults.flatMap(suite => {
    const file = suite.name.slice(root.length + 1);
    const failed = suite.assertionResults
      .filter(test => test.status === 'failed')
      .map(test => `${file} › ${test.fullName}`);
    return failed.length === 0 && suite.status === 'failed'
      ? [`${file} › (suite failed to run)`]
      : failed;
  });

const rows = [];
const matrixStarted = Date.now();
for (const version of versions) {
  const log = createWriteStream(join(artifacts, `node${version}.log`));
  const prefix = join(root, '.cache', `node${version}`);
  const bin = join(prefix, 'node_modules', binaryPackage, 'bin');
  console.log(`\n::group::Node ${version} (${bin})`);
  const row = { version, node: '-', steps: [], failures: [] };
  rows.push(row);

  if (install) {
    const started = Date.now();
    const { code } = await run(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        '--no-package-lock',
        `${binaryPackage}@${version}`,
      ],
      { log, timeout: timeoutS },
    );
    row.steps.push({ name: 'install', s: seconds(started), ok: code === 0 });
  }
  row.node = (await versionOf(join(bin, 'node'), log)) ?? '-';
  if (!row.node.startsWith(`v${version}.`)) {
    row.status = `no Node ${version} binary at ${bin} (got ${row.node})`;
    log.end();
    console.log('::endgroup::');
    continue;
  }

  // PATH first: npm, npx and every `node` a test spawns run on this binary.
  const env = {
    PATH: `${bin}:${process.env.PATH}`,
    NODE_OPTIONS: '--experimental-vm-modules',
    NEST_VERSION: '',
    NEST_MAJOR: '',
  };
  const jsonFile = join(artifacts, `node${version}.json`);
  rmSync(jsonFile, { force: true });
  const steps = [
    {
      name: 'jest unit+e2e',
      command: join(bin, 'node'),
      args: [
        join(root, 'node_modules/jest/bin/jest.js'),
        '--selectProjects',
        'unit',
        'e2e',
        '--ci',
        '--json',
        '--outputFile',
        jsonFile,
      ],
      doneFile: jsonFile,
    },
    { name: 'vitest', command: 'npm', args: ['run', 'test:vitest'] },
    { name: 'smoke', command: 'npm', args: ['run', 'smoke'] },
  ];
  for (const step of steps) {
    const started = Date.now();
    // npm itself is found on PATH: the entry's bin/ holds only node, so npm is the machine's,
    // run by the entry's node (its `#!/usr/bin/env node`).
    const { code, timedOut, hung } = await run(step.command, step.args, {
      env,
      log,
      timeout: timeoutS,
      doneFile: step.doneFile,
    });
    const result = { name: step.name, s: seconds(started), ok: code === 0 && !timedOut };
    if (step.doneFile) {
      if (existsSync(jsonFile)) {
        const results = JSON.parse(readFileSync(jsonFile, 'utf8'));
        row.passed = results.numPassedTests;
        row.skipped = results.numPendingTests + results.numTodoTests;
        row.failures.push(...failuresOf(results));
        result.ok = row.failures.length === 0 && (code === 0 || hung);
        if (hung) result.note = 'jest hung on open handles, killed';
        // The files that failed run once more, alone: a test that fails under the load of a
        // whole suite on a shared machine and passes alone is reported as such, not hidden.
        const failedFiles = [
          ...new Set(results.testResults.filter(s => s.status === 'failed').map(s => s.name)),
        ];
        if (!result.ok && failedFiles.length > 0 && failedFiles.length <= 5) {
          const retryFile = join(artifacts, `node${version}.retry.json`);
          rmSync(retryFile, { force: true });
          const retry = await run(
            join(bin, 'node'),
            [step.args[0], ...failedFiles, '--ci', '--json', '--outputFile', retryFile],
            { env, log, timeout: timeoutS, doneFile: retryFile },
          );
          const again = existsSync(retryFile)
            ? failuresOf(JSON.parse(readFileSync(retryFile, 'utf8')))
            : ['(the retry wrote no results)'];
          if (again.length === 0 && (retry.code === 0 || retry.hung)) {
            result.ok = true;
            row.flaky = row.failures.splice(0);
            result.note = `${row.flaky.length} failed in the full run and passed when their files ran again alone`;
          }
        }
      } else {
        result.ok = false;
      }
    }
    if (timedOut) result.note = `killed after ${timeoutS} s`;
    row.steps.push(result);
  }
  row.status = row.steps.every(step => step.ok) ? 'ok' : 'FAILED';
  log.end();
  console.log('::endgroup::');
}

console.log('\nNode.js version matrix');
for (const r of rows) {
  const steps = r.steps
    .map(s => `${s.name} ${s.s} s${s.ok ? '' : ' FAILED'}${s.note ? ` (${s.note})` : ''}`)
    .join(', ');
  console.log(
    `Node ${r.version} (${r.node}): ${r.status}; jest ${r.passed ?? 0} passed, ${r.failures.length} failed, ${r.skipped ?? 0} skipped; ${steps}`,
  );
  for (const failure of r.failures) console.log(`  ✕ ${failure}`);
  for (const failure of r.flaky ?? []) console.log(`  ~ failed once, passed alone: ${failure}`);
}
console.log(`\nmatrix took ${seconds(matrixStarted)} s; logs and Jest JSON: ${artifacts}`);
process.exit(rows.every(r => r.status === 'ok') ? 0 : 1);
