// Sections of bench/RESULTS.md that scripts other than run.mjs write (K: bench/scale.mjs,
// L: bench/rolling-deploy.mjs): each between `<!-- <id>:begin -->` and `<!-- <id>:end -->`.
// run.mjs keeps them when it renders the rest of the file.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

const pattern = /<!-- ([A-Z]+):begin -->[\s\S]*?<!-- \1:end -->\n?/g;

/** The blocks of a RESULTS.md text, in order. */
export const blocksOf = text => text.match(pattern) ?? [];

/** `markdown` followed by the blocks of the file at `file` (what run.mjs writes). */
export const withBlocksOf = (file, markdown) => {
  const kept = existsSync(file) ? blocksOf(readFileSync(file, 'utf8')) : [];
  return kept.length ? `${markdown.trimEnd()}\n\n${kept.join('\n')}` : markdown;
};

/** Writes (or replaces) block `id` of the file at `file`. */
export const writeBlock = (file, id, body) => {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const block = `<!-- ${id}:begin -->\n${body.trimEnd()}\n<!-- ${id}:end -->\n`;
  const re = new RegExp(`<!-- ${id}:begin -->[\\s\\S]*?<!-- ${id}:end -->\\n?`);
  writeFileSync(file, re.test(text) ? text.replace(re, block) : `${text.trimEnd()}\n\n${block}`);
};
