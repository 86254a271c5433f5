// bcc with Redis: an asynchronous store, so Nunjucks' callback API (config.bundle: with a
// working-set bundle).
import { useBytecodeCache } from '@bcc/nunjucks';
import { RedisBytecodeCache } from '@bcc/redis';
import nunjucks from 'nunjucks';
import { config, renderAndReport } from './common.mjs';

const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(config.templates));
const cache = new RedisBytecodeCache({ url: config.redis, prefix: config.prefix });
const bcc = useBytecodeCache(env, cache, config.bundle ? { bundle: config.bundle } : {});
await renderAndReport('bcc-redis', env, performance.now(), async () => {
  await bcc.flush();
  await cache.close();
  return bcc.stats;
});
