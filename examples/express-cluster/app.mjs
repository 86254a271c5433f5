// The Express app one worker runs: Nunjucks with its templates loaded through a bcc cache.
//
// BCC_CACHE picks the cache (see @bcc/core's createBytecodeCacheFromEnv): unset means `file:`,
// the filesystem cache in its private default directory; `BCC_CACHE=none` turns bcc off;
// `BCC_CACHE="memory:,file:///var/cache/app"` or `"redis://127.0.0.1:6379/0?prefix=app/"` work
// as well (install the adapter package it names).
import { createBytecodeCacheFromEnv, isDisabledCache } from '@bcc/core';
import { useBytecodeCache } from '@bcc/nunjucks';
import express from 'express';
import nunjucks from 'nunjucks';
import { pageContext, pages } from './data.mjs';

const views = new URL('./views/', import.meta.url).pathname;

export async function createApp({ worker = 0 } = {}) {
  const app = express();
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(views), { autoescape: true });
  env.express(app);
  app.set('view engine', 'njk');

  // BCC_CACHE=none (or off) gives a disabled cache: useBytecodeCache then leaves env untouched.
  const cache = await createBytecodeCacheFromEnv({ fallback: 'file:' });
  const bcc = isDisabledCache(cache) ? null : useBytecodeCache(env, cache);

  for (const page of pages) {
    app.get(page === 'home' ? '/' : `/${page}`, (_req, res, next) => {
      const started = performance.now();
      res.render(`pages/${page}.njk`, pageContext(page, worker), (error, html) => {
        if (error) return next(error);
        res.set('x-worker', String(worker));
        // How long this worker took to load (and, without a cache, compile) and render the page.
        res.set('server-timing', `render;dur=${(performance.now() - started).toFixed(2)}`);
        if (bcc) res.set('x-bcc-compiled', String(bcc.stats.compiled));
        res.send(html);
      });
    });
  }
  return { app, bcc };
}
