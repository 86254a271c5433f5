// Fastify + @fastify/view, with bcc under it through @bcc/fastify (cache from BCC_CACHE).
import fastifyBcc from '@bcc/fastify';
import { Eta } from 'eta';
import Fastify from 'fastify';
import handlebars from 'handlebars';
import nunjucks from 'nunjucks';
import pug from 'pug';
import { data, views } from './common.mjs';

const engines = {
  nunjucks: () => ({ engine: { nunjucks }, page: 'page.njk' }),
  pug: () => ({ engine: { pug }, page: 'page.pug' }),
  handlebars: () => {
    const hb = handlebars.create();
    hb.registerHelper('upper', (text) => String(text).toUpperCase());
    return { engine: { handlebars: hb }, page: 'page.hbs' };
  },
  eta: () => ({ engine: { eta: new Eta() }, page: 'page.eta' }),
};

/** A Fastify server rendering the page with `engine` (a key of `engines`). */
export async function start(engine) {
  const { engine: engines_, page } = engines[engine]();
  const app = Fastify();
  await app.register(fastifyBcc, { engine: engines_, templates: views, production: true });
  app.get('/', (_request, reply) => reply.view(page, data));
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  // app.bcc is null when BCC_CACHE=none: @fastify/view as without bcc.
  const bcc = app.bcc ? { stats: app.bcc.stats, flush: async () => {} } : null;
  return { url: `${url}/`, bcc, close: () => app.close() };
}
