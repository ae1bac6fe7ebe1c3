#!/usr/bin/env node
// The public surface of every entry point of package.json "exports", as API Extractor reports it
// from the built declarations (dist/**/*.d.ts), against the reports checked in under etc/api/.
//
//   npm run api:check     (node test/package/api-report.mjs)           fails when a report differs
//   npm run api:update    (node test/package/api-report.mjs --update)  rewrites etc/api/*.api.md
//
// Both read dist/: run `npm run build` first (the npm scripts do). A difference means the public
// surface changed: a change you meant is accepted with `npm run api:update` and reviewed in the
// diff of etc/api/*.api.md (and the CHANGELOG says what users do about it); one you did not mean
// is a bug. A failed check prints the difference (the new report is left in .artifacts/api/).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const args = process.argv.slice(2);
const unknown = args.filter(arg => arg !== '--update');
if (unknown.length > 0) {
  console.error(`api-report: unknown argument ${unknown.join(' ')} (known: --update)`);
  process.exit(2);
}
const update = args.includes('--update');
const reportFolder = join(root, 'etc/api');
const tempFolder = join(root, '.artifacts/api');
mkdirSync(reportFolder, { recursive: true });
mkdirSync(tempFolder, { recursive: true });

const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
/** `.` → nestjs-flush, `./redis` → nestjs-flush-redis: one report per entry point. */
const entries = Object.entries(pkg.exports)
  .filter(([, target]) => typeof target === 'object' && target.types)
  .map(([subpath, target]) => ({
    subpath,
    name: subpath === '.' ? pkg.name : `${pkg.name}-${subpath.slice(2).replaceAll('/', '-')}`,
    types: join(root, target.types),
  }));

const missing = entries.filter(entry => !existsSync(entry.types));
if (missing.length > 0) {
  console.error(
    `api-report: ${missing.map(e => e.types.slice(root.length + 1)).join(', ')} missing: run \`npm run build\` first.`,
  );
  process.exit(2);
}

// Every API Extractor finding goes into the report (visible in review, part of the check)
// instead of the console; TSDoc style (our @publicApi tag, inline examples) is not its job here.
const inReport = { logLevel: 'warning', addToApiReportFile: true };
const configFor = entry => ({
  projectFolder: root,
  mainEntryPointFilePath: entry.types,
  newlineKind: 'lf',
  compiler: {
    // The declarations as a consumer on NodeNext reads them.
    overrideTsconfig: {
      compilerOptions: {
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        target: 'ES2022',
        lib: ['ES2022', 'DOM'],
        types: ['node'],
        strict: true,
        skipLibCheck: true,
      },
      files: [entry.types],
    },
    skipLibCheck: true,
  },
  apiReport: {
    enabled: true,
    reportFileName: `${entry.name}.api.md`,
    reportFolder,
    reportTempFolder: tempFolder,
    // Types the entry point reaches without exporting them (the transport's message shapes in
    // redis, say) are part of its surface too: listed, so a change to them shows as well.
    includeForgottenExports: true,
  },
  docModel: { enabled: false },
  dtsRollup: { enabled: false },
  tsdocMetadata: { enabled: false },
  messages: {
    compilerMessageReporting: { default: { logLevel: 'error' } },
    extractorMessageReporting: {
      default: inReport,
      // Our exports carry @publicApi (Nest's convention), not TSDoc release tags.
      'ae-missing-release-tag': { logLevel: 'none' },
      // Undocumented members are the TSDoc review's business, not the surface's.
      'ae-undocumented': { logLevel: 'none' },
      // Listed in the report by includeForgottenExports; the warning's source position would
      // make the report change with every edit of that file.
      'ae-forgotten-export': { logLevel: 'none' },
      'ae-wrong-input-file-type': { logLevel: 'error' },
    },
    tsdocMessageReporting: { default: { logLevel: 'none' } },
  },
});

const quiet = new Set([
  'console-preamble',
  'console-compiler-version-notice',
  'console-api-report-not-copied',
  'console-api-report-copied',
  'console-api-report-created',
  'console-api-report-unchanged',
]);
let changed = 0;
let errors = 0;
for (const entry of entries) {
  const config = ExtractorConfig.prepare({
    configObject: configFor(entry),
    configObjectFullPath: undefined,
    packageJsonFullPath: join(root, 'package.json'),
  });
  const result = Extractor.invoke(config, {
    localBuild: update,
    showVerboseMessages: false,
    messageCallback: message => {
      // Its TypeScript version and its own words on the report file (ours follow); the diff of
      // a changed report is printed.
      if (quiet.has(message.messageId)) message.handled = true;
    },
  });
  const file = `etc/api/${entry.name}.api.md`;
  if (result.errorCount > 0) {
    errors += result.errorCount;
    console.error(`api-report: ${entry.subpath}: ${result.errorCount} error(s) above`);
  } else if (result.apiReportChanged) {
    changed += 1;
    if (update) {
      console.log(`api-report: ${entry.subpath}: ${file} updated`);
    } else {
      console.error(`api-report: ${entry.subpath}: the public surface differs from ${file}:`);
      spawnSync('diff', ['-u', file, `.artifacts/api/${entry.name}.api.md`], {
        cwd: root,
        stdio: 'inherit',
      });
    }
  } else {
    console.log(`api-report: ${entry.subpath}: ${file} up to date`);
  }
}

if (errors > 0) process.exit(1);
if (changed > 0 && !update) {
  console.error(
    `\napi-report: ${changed} entry point(s) changed their public surface. If you meant it, run ` +
      '`npm run api:update`, commit etc/api/*.api.md and say what users do about it in CHANGELOG.md; ' +
      'if not, the diff shows what became public or changed.',
  );
  process.exit(1);
}
