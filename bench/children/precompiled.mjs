// Nunjucks' own ahead-of-time path: templates precompiled at build time into one CommonJS
// module, loaded with PrecompiledLoader.
import { createRequire } from 'node:module';
import nunjucks from 'nunjucks';
import { config, renderAndReport } from './common.mjs';

const templates = createRequire(import.meta.url)(config.precompiled);
const env = new nunjucks.Environment(new nunjucks.PrecompiledLoader(templates));
await renderAndReport('precompiled', env, performance.now());
