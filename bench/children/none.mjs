// No cache: Nunjucks compiles every template.
import nunjucks from 'nunjucks';
import { config, renderAndReport } from './common.mjs';

const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(config.templates));
await renderAndReport('none', env, performance.now());
