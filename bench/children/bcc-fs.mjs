// bcc with the filesystem cache (config.bundle: with the working-set bundle option).
import { FileSystemBytecodeCache } from '@bcc/fs';
import { useBytecodeCache } from '@bcc/nunjucks';
import nunjucks from 'nunjucks';
import { config, renderAndReport } from './common.mjs';

const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(config.templates));
const bcc = useBytecodeCache(env, new FileSystemBytecodeCache({ directory: config.directory }), {
  ...(config.codeCache === false ? { codeCache: false } : {}),
  // The working-set bundle (written by flush() below, in the priming runs).
  ...(config.bundle ? { bundle: config.bundle } : {}),
});
await renderAndReport('bcc-fs', env, performance.now(), async () => {
  await bcc.flush();
  return bcc.stats;
});
