// Koa + Nunjucks: the environment's callback API from a middleware (any store works with it).
import { createBytecodeCacheFromEnv } from '@bcc/core';
import { useBytecodeCache } from '@bcc/nunjucks';
import Koa from 'koa';
import nunjucks from 'nunjucks';
import { data, serve, views } from './common.mjs';

export async function start() {
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(views), { autoescape: true });
  const bcc = useBytecodeCache(env, await createBytecodeCacheFromEnv());
  const app = new Koa();
  app.use(async (ctx) => {
    ctx.type = 'html';
    ctx.body = await new Promise((resolve, reject) =>
      env.render('page.njk', data, (error, html) => (error ? reject(error) : resolve(html))),
    );
  });
  return { ...(await serve(app)), bcc };
}
