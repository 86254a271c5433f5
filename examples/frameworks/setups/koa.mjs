// Koa with Pug, Handlebars or Eta: the engine's render in a middleware, bcc under the engine.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBytecodeCacheFromEnv } from '@bcc/core';
import { Eta } from 'eta';
import handlebars from 'handlebars';
import Koa from 'koa';
import pug from 'pug';
import { data, serve, views } from './common.mjs';

const engines = {
  async pug(cache) {
    const { useBytecodeCache } = await import('@bcc/pug');
    const bcc = useBytecodeCache(pug, cache);
    return { bcc, render: () => pug.renderFile(join(views, 'page.pug'), data) };
  },
  async handlebars(cache) {
    const { useBytecodeCache } = await import('@bcc/handlebars');
    const hb = handlebars.create();
    hb.registerHelper('upper', (text) => String(text).toUpperCase());
    const bcc = useBytecodeCache(hb, cache);
    const page = hb.compile(readFileSync(join(views, 'page.hbs'), 'utf8'));
    return { bcc, render: () => page(data) };
  },
  async eta(cache) {
    const { useBytecodeCache } = await import('@bcc/eta');
    const eta = new Eta({ views });
    const bcc = useBytecodeCache(eta, cache);
    return { bcc, render: () => eta.render('./page', data) };
  },
};

/** A Koa server rendering the page with `engine` (a key of `engines`). */
export async function start(engine) {
  const { bcc, render } = await engines[engine](await createBytecodeCacheFromEnv());
  const app = new Koa();
  app.use((ctx) => {
    ctx.type = 'html';
    ctx.body = render();
  });
  return { ...(await serve(app)), bcc };
}
