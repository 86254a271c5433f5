// Express + Pug: Express renders .pug views with pug.renderFile, which compiles through pug.compile.
import { createBytecodeCacheFromEnv } from '@bcc/core';
import { useBytecodeCache } from '@bcc/pug';
import express from 'express';
import pug from 'pug';
import { data, serve, views } from './common.mjs';

export async function start() {
  const bcc = useBytecodeCache(pug, await createBytecodeCacheFromEnv());
  const app = express();
  app.set('views', views);
  app.set('view engine', 'pug');
  app.get('/', (_req, res) => res.render('page', data));
  return { ...(await serve(app)), bcc };
}
