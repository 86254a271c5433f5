// Express + Eta: an Eta instance registered as the view engine for .eta files.
import { relative } from 'node:path';
import { createBytecodeCacheFromEnv } from '@bcc/core';
import { useBytecodeCache } from '@bcc/eta';
import { Eta } from 'eta';
import express from 'express';
import { data, serve, views } from './common.mjs';

export async function start() {
  const eta = new Eta({ views });
  const bcc = useBytecodeCache(eta, await createBytecodeCacheFromEnv());
  const app = express();
  app.engine('eta', (path, locals, callback) => {
    try {
      // Eta resolves names against its views; Express hands over the absolute path.
      callback(null, eta.render(relative(views, path), locals));
    } catch (error) {
      callback(error);
    }
  });
  app.set('views', views);
  app.set('view engine', 'eta');
  app.get('/', (_req, res) => res.render('page', data));
  return { ...(await serve(app)), bcc };
}
