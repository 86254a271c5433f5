// Eta's own ahead-of-time path: every template's compiled function in one module, put into
// Eta's template cache under the path Eta resolves, so Eta compiles nothing.
import { createRequire } from 'node:module';
import { Eta } from 'eta';
import { config, renderPages } from './pug-eta-common.mjs';

const functions = createRequire(import.meta.url)(config.precompiled);
const eta = new Eta({ views: config.templates, cache: true });
for (const [path, fn] of Object.entries(functions)) eta.templatesSync.define(path, fn);
await renderPages('eta-precompiled', (name, locals) => eta.render(`./${name}`, locals), performance.now());
