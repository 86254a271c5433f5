// Pug's own ahead-of-time path: every page's client function (runtime inlined) in one module.
import { createRequire } from 'node:module';
import { config, renderPages } from './pug-eta-common.mjs';

const templates = createRequire(import.meta.url)(config.precompiled);
await renderPages('pug-precompiled', (name, locals) => templates[name](locals), performance.now());
