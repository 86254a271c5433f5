// Pug with no cache: each page (and what it extends and includes) compiled in every process.
import { join } from 'node:path';
import pug from 'pug';
import { config, renderPages } from './pug-eta-common.mjs';

await renderPages(
  'pug-none',
  (name, locals) => pug.compileFile(join(config.templates, `${name}.pug`))(locals),
  performance.now(),
);
