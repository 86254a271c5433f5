// Nunjucks' own ahead-of-time path: `nunjucks.precompile` over the template directory, written
// as one CommonJS module mapping names to `{ root, b_* }` for `PrecompiledLoader`.
import { writeFileSync } from 'node:fs';
import nunjucks from 'nunjucks';

/** Writes the precompiled templates of `dir` to `file`. */
export function writePrecompiled(dir, file) {
  const env = new nunjucks.Environment([]);
  const code = nunjucks.precompile(dir, {
    env,
    include: [/\.njk$/],
    // Nunjucks' default wrapper targets browsers (window.nunjucksPrecompiled); this is the
    // same code in a CommonJS module.
    wrapper: (templates) =>
      `module.exports = {\n${templates
        .map((t) => `${JSON.stringify(t.name)}: (function () {\n${t.template}\n})(),\n`)
        .join('')}};\n`,
  });
  writeFileSync(file, code);
}
