#!/usr/bin/env node
// NestJS version matrix: installs each entry of test/nest-versions with `npm ci --prefix` and runs
// the e2e project against it (jest.config.js maps @nestjs/* and rxjs by NEST_VERSION).
//
//   node test/nest-versions/run.mjs                 every entry: 11.0 11.1 11 12.0 12.5 12
//   node test/nest-versions/run.mjs 11.0 12.0       only these
//   node test/nest-versions/run.mjs --no-install    reuse the installs already there
//
// `12` is the root install (latest 12): nothing is installed for it and every e2e suite runs.
// The other entries leave out the Redis and Chromium suites (see jest.config.js; NEST_ALL_SUITES=1
// puts them back). Entries run one after another (timing-sensitive tests, 2-core machine); one
// failing entry does not stop the others. Per-entry logs and Jest JSON results go to
// .artifacts/nest-versions/. Exit code 1 when any entry failed.
// NEST_MATRIX_TIMEOUT_S (default 600) bounds one entry's Jest run; a run past it is killed.

import { createWriteStream, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand } from '../utils/run-command.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '../..');
const all = ['11.0', '11.1', '11', '12.0', '12.5', '12'];

const args = process.argv.slice(2);
const install = !args.includes('--no-install');
const unknownFlags = args.filter(a => a.startsWith('--') && a !== '--no-install');
const wanted = args.filter(a => !a.startsWith('--'));
if (unknownFlags.length > 0) fail(`unknown option ${unknownFlags.join(' ')} (known: --no-install)`);
for (const version of wanted) {
  if (!all.includes(version)) fail(`unknown matrix entry ${version}: use one of ${all.join(', ')}`);
}
const versions = wanted.length > 0 ? wanted : all;
const timeoutS = Number(process.env.NEST_MATRIX_TIMEOUT_S ?? 600);
const artifacts = join(root, '.artifacts/nest-versions');
mkdirSync(artifacts, { recursive: true });

function fail(message) {
  console.error(`nest-versions: ${message}`);
  process.exit(2);
}

const seconds = since => Math.round((Date.now() - since) / 100) / 10;
const stripAnsi = text => text.replace(/\u001b\[[0-9;]*m/g, '');

/** Runs a command from the repository root (see test/utils/run-command.mjs). */
const run = (command, commandArgs, options) =>
  runCommand(command, commandArgs, { cwd: root, ...options });

const installDir = version => (version === '12' ? root : join(here, version));
const coreVersion = version => {
  const file = join(installDir(version), 'node_modules/@nestjs/core/package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : 'not installed';
};

/** Failing tests (and suites that failed to run) from Jest's --json output. */
const failuresOf = results =>
  results.testResults.flatMap(suite => {
    const file = suite.name.slice(root.length + 1);
    const failedTests = suite.assertionResults
      .filter(test => test.status === 'failed')
      .map(test => ({ file, name: test.fullName, message: test.failureMessages.join('\n') }));
    if (failedTests.length === 0 && suite.status === 'failed') {
      return [{ file, name: '(suite failed to run)', message: suite.message }];
    }
    return failedTests;
  });

/** The error line, then the changed lines of its diff (or the next lines); no stack. */
const firstLines = (message, count) => {
  const lines = stripAnsi(message ?? '')
    .split('\n')
    .map(line => line.trimEnd())
    .filter(line => line.trim() !== '' && !/^\s*at /.test(line));
  const changed = lines.filter(
    line => /^\s*[-+] /.test(line) && !/^\s*[-+] (Expected|Received)\b/.test(line),
  );
  const rest = changed.length > 0 ? changed : lines.slice(1);
  return [lines[0] ?? '', ...rest.slice(0, count - 1)].map(line => line.trim());
};

const rows = [];
const matrixStarted = Date.now();
for (const version of versions) {
  const log = createWriteStream(join(artifacts, `${version}.log`));
  const jsonFile = join(artifacts, `${version}.json`);
  rmSync(jsonFile, { force: true });
  console.log(
    `\n::group::NestJS ${version} (${version === '12' ? 'root install' : `test/nest-versions/${version}`})`,
  );
  const row = { version, installS: 0, testS: 0, passed: 0, failed: 0, skipped: 0, failures: [] };
  rows.push(row);

  if (version !== '12' && install) {
    const started = Date.now();
    const { code } = await run(
      'npm',
      ['ci', '--prefix', `test/nest-versions/${version}`, '--no-audit', '--no-fund'],
      { log, timeout: timeoutS },
    );
    row.installS = seconds(started);
    if (code !== 0) {
      row.status = `npm ci exited ${code}`;
      row.core = coreVersion(version);
      log.end();
      console.log('::endgroup::');
      continue;
    }
  }
  row.core = coreVersion(version);

  const started = Date.now();
  const { code, timedOut, hung } = await run(
    process.execPath,
    [
      '--experimental-vm-modules',
      join(root, 'node_modules/jest/bin/jest.js'),
      '--selectProjects',
      'e2e',
      '--ci',
      '--json',
      '--outputFile',
      jsonFile,
    ],
    { env: { NEST_VERSION: version, NEST_MAJOR: '' }, log, timeout: timeoutS, doneFile: jsonFile },
  );
  row.testS = seconds(started);
  if (existsSync(jsonFile)) {
    const results = JSON.parse(readFileSync(jsonFile, 'utf8'));
    row.passed = results.numPassedTests;
    row.skipped = results.numPendingTests + results.numTodoTests;
    row.failures = failuresOf(results);
    row.failed = row.failures.length;
  }
  if (timedOut) row.status = `killed after ${timeoutS} s`;
  else if (!existsSync(jsonFile)) row.status = `jest exited ${code} without results`;
  else if (hung)
    row.status = row.failed === 0 ? 'ok (jest hung on open handles, killed)' : 'FAILED (and hung)';
  else row.status = code === 0 && row.failed === 0 ? 'ok' : 'FAILED';
  log.end();
  console.log('::endgroup::');
}

const pad = (value, width) => String(value).padEnd(width);
console.log('\nNestJS version matrix (e2e project)');
console.log(
  `${pad('entry', 6)} ${pad('@nestjs/core', 13)} ${pad('install s', 10)} ${pad('tests s', 8)} ${pad('passed', 7)} ${pad('failed', 7)} ${pad('skipped', 8)} status`,
);
for (const r of rows) {
  console.log(
    `${pad(r.version, 6)} ${pad(r.core, 13)} ${pad(r.installS, 10)} ${pad(r.testS, 8)} ${pad(r.passed, 7)} ${pad(r.failed, 7)} ${pad(r.skipped, 8)} ${r.status}`,
  );
}
for (const r of rows.filter(row => row.failures.length > 0)) {
  console.log(`\nFailures on NestJS ${r.version} (${r.core}):`);
  for (const f of r.failures) {
    console.log(`  ✕ ${f.file} › ${f.name}`);
    for (const line of firstLines(f.message, 6)) console.log(`      ${line}`);
  }
}
const total = key => rows.reduce((sum, r) => sum + r[key], 0);
const broken = rows.filter(r => !r.status.startsWith('ok'));
console.log(`\nmatrix took ${seconds(matrixStarted)} s; logs and Jest JSON: ${artifacts}`);
// Entries that failed without test results (install error, timeout) count as one failure each.
const failed = total('failed') + broken.filter(r => r.failures.length === 0).length;
console.log(
  `nest-versions: ${total('passed')} passed, ${failed} failed, ${total('skipped')} skipped`,
);
process.exit(broken.length > 0 ? 1 : 0);
