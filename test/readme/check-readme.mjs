#!/usr/bin/env node
// Fails when README.md's TypeScript examples drift from the compiled, tested files they come from.
//
// Every ```ts block in README.md must follow a marker line naming its file(s):
//   <!-- file: test/readme/app.module.ts -->
// and appear verbatim in each file named (after removing the block's common indentation). A line
// `// ...` in a block stands for lines the README leaves out: the parts around it must appear in
// the file in that order. `npm run lint` runs this; tsc type-checks the files and the test suites
// run them.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const readmePath = process.argv[2] ?? join(root, 'README.md');
const lines = readFileSync(readmePath, 'utf8').split('\n');
const problems = [];
let blocks = 0;

const indentOf = line => /^ */.exec(line)[0].length;

const trimBlank = segment => {
  let start = 0;
  let end = segment.length;
  while (start < end && segment[start].trim() === '') start++;
  while (end > start && segment[end - 1].trim() === '') end--;
  return segment.slice(start, end);
};

/**
 * Where `segment` (lines) occurs in `fileLines` at or after line `from`, allowing the whole
 * segment one extra indentation (README fragments are shown flush left): the line after the
 * match, or -1.
 */
const find = (fileLines, segment, from) => {
  const cut = Math.min(...segment.filter(l => l.trim() !== '').map(indentOf));
  const seg = segment.map(l => l.slice(cut));
  let best = { matched: -1, readme: '', file: '' };
  for (let k = from; k < fileLines.length; k++) {
    const extra = indentOf(fileLines[k]) - indentOf(seg[0]);
    if (extra < 0) continue;
    const pad = ' '.repeat(extra);
    let j = 0;
    while (
      j < seg.length &&
      k + j < fileLines.length &&
      (seg[j] === '' ? fileLines[k + j].trim() === '' : fileLines[k + j] === pad + seg[j])
    ) {
      j++;
    }
    if (j === seg.length) return { next: k + j };
    if (j > best.matched) best = { matched: j, readme: seg[j], file: fileLines[k + j] ?? '' };
  }
  return { next: -1, best };
};

for (let i = 0; i < lines.length; i++) {
  const fence = /^(\s*)```(ts|typescript)\s*$/.exec(lines[i]);
  if (!fence) continue;
  blocks++;
  const startLine = i + 1;
  const body = [];
  for (i++; i < lines.length && !/^\s*```\s*$/.test(lines[i]); i++) body.push(lines[i]);

  let m = startLine - 2;
  while (m >= 0 && lines[m].trim() === '') m--;
  const marker = m >= 0 ? /^\s*<!--\s*file:\s*(.+?)\s*-->\s*$/.exec(lines[m]) : null;
  if (!marker) {
    problems.push(
      `README.md:${startLine}: a ts block without a "<!-- file: test/readme/<name>.ts -->" line above it. ` +
        'Put the example in a file under test/readme/ (compiled by tsc, run by the tests) and name it there.',
    );
    continue;
  }

  const segments = [[]];
  for (const line of body) {
    if (line.trim() === '// ...') segments.push([]);
    else segments.at(-1).push(line);
  }
  const wanted = segments.map(trimBlank).filter(s => s.length > 0);

  for (const file of marker[1].split(/\s+/)) {
    const path = join(root, file);
    if (!existsSync(path)) {
      problems.push(`README.md:${startLine}: ${file} does not exist.`);
      continue;
    }
    const fileLines = readFileSync(path, 'utf8').split('\n');
    let from = 0;
    for (const segment of wanted) {
      const { next, best } = find(fileLines, segment, from);
      if (next < 0) {
        const where = find(fileLines, segment, 0).next >= 0 ? ' after the part before it' : '';
        const diff =
          best.matched > 0
            ? ` First difference, after ${best.matched} matching line(s):\n  README: ${best.readme.trim()}\n  file:   ${best.file.trim()}\n`
            : ' ';
        problems.push(
          `README.md:${startLine}: the part starting "${segment[0].trim()}" is not in ${file}${where}.` +
            diff +
            "Copy the file's code into the README (or the README's into the file) so they match.",
        );
        break;
      }
      from = next;
    }
  }
}

if (blocks === 0) problems.push('README.md has no ts blocks: the extraction is broken.');
if (problems.length) {
  console.error(problems.join('\n'));
  process.exit(1);
}
console.log(`README.md: ${blocks} TypeScript blocks match their files.`);
