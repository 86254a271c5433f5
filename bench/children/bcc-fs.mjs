// bcc with the filesystem cache.
import { FileSystemBytecodeCache } from '@bcc/fs';
import { useBytecodeCache } from '@bcc/nunjucks';
import nunjucks from 'nunjucks';
import { config, renderAndReport } from './common.mjs';

const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(config.templates));
const bcc = useBytecodeCache(
  env,
  new FileSystemBytecodeCache({ directory: config.directory }),
  config.codeCache === false ? { codeCache: false } : {},
);
await renderAndReport('bcc-fs', env, performance.now(), async () => {
  await bcc.flush();
  return bcc.stats;
});
