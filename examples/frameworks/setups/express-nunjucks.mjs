// Express + Nunjucks: nunjucks.configure wires the environment into res.render.
import { createBytecodeCacheFromEnv } from '@bcc/core';
import { useBytecodeCache } from '@bcc/nunjucks';
import express from 'express';
import nunjucks from 'nunjucks';
import { data, serve, views } from './common.mjs';

export async function start() {
  const app = express();
  const env = nunjucks.configure(views, { express: app, autoescape: true });
  const bcc = useBytecodeCache(env, await createBytecodeCacheFromEnv());
  app.get('/', (_req, res) => res.render('page.njk', data));
  return { ...(await serve(app)), bcc };
}
