// The Express app: express-handlebars renders views with a layout, partials and helpers; its
// Handlebars instance compiles through a bcc cache. BCC_CACHE picks the cache (unset: `file:`,
// the private default directory; `BCC_CACHE=none` turns bcc off).
import { createBytecodeCacheFromEnv, isDisabledCache } from '@bcc/core';
import { useBytecodeCache } from '@bcc/handlebars';
import express from 'express';
import { create } from 'express-handlebars';
import Handlebars from 'handlebars';

const views = new URL('./views/', import.meta.url).pathname;

export const helpers = {
  upper: (text) => String(text).toUpperCase(),
  eq: (a, b) => a === b,
  money: (amount) => `€${Number(amount).toFixed(2)}`,
  sum: (orders) => orders.reduce((total, order) => total + order.total, 0),
};

export const data = {
  menu: ['home', 'orders'],
  year: 2026,
  legal: 'Prices include VAT <where applicable>.',
  user: { name: 'Ada Lovelace', admin: true },
  products: [
    { name: 'Tea & biscuits', price: 4.5, stock: 3 },
    { name: 'Analytical <Engine>', price: 1843, stock: 0 },
  ],
  orders: [
    { id: 5001, status: 'paid', total: 12.5 },
    { id: 5002, status: 'shipped', total: 40 },
  ],
};

/** The app, and bcc's handle (null when bcc is off). */
export async function createApp() {
  const hb = Handlebars.create();
  const cache = await createBytecodeCacheFromEnv({ fallback: 'file:' });
  const bcc = useBytecodeCache(hb, cache);
  const engine = create({
    handlebars: hb,
    helpers,
    extname: '.hbs',
    layoutsDir: `${views}layouts`,
    partialsDir: `${views}partials`,
  });
  const app = express();
  app.engine('.hbs', engine.engine);
  app.set('view engine', '.hbs');
  app.set('views', views);
  app.enable('view cache');
  for (const page of ['home', 'orders']) {
    app.get(page === 'home' ? '/' : `/${page}`, (_req, res) =>
      res.render(page, { ...data, page, title: page }),
    );
  }
  return { app, bcc: isDisabledCache(cache) ? null : bcc };
}
