// @bcc/fastify against plain @fastify/view: real Fastify servers (fastify.inject and a real
// listening socket), every engine bcc serves, production and development modes, a synchronous
// (filesystem) and an asynchronous store.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BytecodeCache, inspectFrame, MemoryBytecodeCache } from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { AsyncOnlyMemoryCache } from '@bcc/testkit';
import fastifyView from '@fastify/view';
import { Eta } from 'eta';
import Fastify, { type FastifyInstance } from 'fastify';
import handlebars from 'handlebars';
import nunjucks from 'nunjucks';
import pug from 'pug';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type BccViewOptions, fastifyBcc } from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A views directory with a page (and what it uses) for each engine. */
function views(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bcc-fastify-'));
  dirs.push(dir);
  const files: Record<string, string> = {
    'layout.njk': '<main>{% block body %}{% endblock %}</main>',
    'page.njk':
      '{% extends "layout.njk" %}{% block body %}<h1>{{ title }}</h1>{% for x in items %}<li>{{ x }}</li>{% endfor %}{% endblock %}',
    'page.hbs': '<h1>{{title}}</h1>{{#each items}}<li>{{this}}</li>{{/each}}',
    'page.pug': 'include parts/head.pug\nh1= title\nul\n  each x in items\n    li= x',
    'parts/head.pug': 'header bcc',
    'page.eta':
      '<h1><%= it.title %></h1><% it.items.forEach(function (x) { %><li><%= x %></li><% }) %><%~ include("./parts/foot") %>',
    'parts/foot.eta': '<footer><%= it.title %></footer>',
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const data = { title: 'Hello <bcc>', items: ['a', '<b>'] };

type EngineCase = { key: string; page: string; engine: () => unknown };
const ENGINES: EngineCase[] = [
  { key: 'nunjucks', page: 'page.njk', engine: () => nunjucks },
  { key: 'handlebars', page: 'page.hbs', engine: () => handlebars.create() },
  { key: 'pug', page: 'page.pug', engine: () => pug },
  { key: 'eta', page: 'page.eta', engine: () => new Eta() },
];

const apps: FastifyInstance[] = [];
afterEach(async () => {
  for (const app of apps.splice(0)) await app.close();
});

async function server(register: (app: FastifyInstance) => PromiseLike<unknown>, page: string) {
  const app = Fastify();
  apps.push(app);
  await register(app);
  app.get('/', (_request, reply) => reply.view(page, data));
  app.get('/missing', (_request, reply) => reply.view(`missing-${page}`, data));
  await app.ready();
  return app;
}

const get = async (app: FastifyInstance, url = '/') => {
  const response = await app.inject({ method: 'GET', url });
  return { status: response.statusCode, type: response.headers['content-type'], body: response.body };
};

describe.each(ENGINES)('@bcc/fastify with $key', ({ key, page, engine }) => {
  for (const production of [true, false]) {
    it(`renders exactly as @fastify/view does (production: ${production}), cold and warm, with a filesystem cache`, async () => {
      const dir = views();
      const viewOptions = { engine: { [key]: engine() }, templates: dir, production } as BccViewOptions;
      const plain = await server(
        (app) => app.register(fastifyView, { ...viewOptions, engine: { [key]: engine() } }),
        page,
      );
      const expected = await get(plain);
      expect(expected.status).toBe(200);
      expect(expected.body).toContain('<li>a</li>');
      const cache = new FileSystemBytecodeCache({ directory: join(dir, '.bcc') });
      for (const round of ['cold', 'warm']) {
        const app = await server(
          (a) => a.register(fastifyBcc, { ...viewOptions, engine: { [key]: engine() }, bcc: { cache } }),
          page,
        );
        for (let request = 0; request < 2; request++)
          expect(await get(app), `${round} #${request}`).toEqual(expected);
        const stats = app.bcc!.stats;
        if (round === 'warm') {
          expect(stats.compiled, round).toBe(0);
          expect(stats.cache + stats.cacheV8, round).toBeGreaterThan(0);
        } else expect(stats.compiled, round).toBeGreaterThan(0);
        // Errors too: a missing template is @fastify/view's 500, the same through bcc.
        const missing = await get(app, '/missing');
        expect(missing.status).toBe((await get(plain, '/missing')).status);
        await app.close();
      }
    });
  }

  it('an asynchronous store: preloaded in onReady, then served from the cache', async () => {
    const dir = views();
    const cache: BytecodeCache = new AsyncOnlyMemoryCache();
    const make = () =>
      server(
        (app) =>
          app.register(fastifyBcc, {
            engine: { [key]: engine() },
            templates: dir,
            production: true,
            bcc: { cache },
          }),
        page,
      );
    const plain = await server(
      (app) => app.register(fastifyView, { engine: { [key]: engine() }, templates: dir, production: true }),
      page,
    );
    const expected = await get(plain);
    const first = await make();
    expect(first.bcc!.mode).toBe('async');
    expect(first.bcc!.preloaded?.failed).toEqual([]);
    expect(await get(first)).toEqual(expected);
    await first.close();
    const second = await make();
    expect(await get(second)).toEqual(expected);
    expect(second.bcc!.stats.compiled).toBe(0);
    expect(second.bcc!.stats.uncached).toBe(0);
  });
});

describe('@bcc/fastify registration', () => {
  it('bcc: false registers @fastify/view as it is; fastify.bcc is null', async () => {
    const app = await server(
      (a) => a.register(fastifyBcc, { engine: { pug }, templates: views(), bcc: false }),
      'page.pug',
    );
    expect(app.bcc).toBeNull();
    expect((await get(app)).body).toContain('<h1>Hello &lt;bcc&gt;</h1>');
    expect(pug.compile.name).not.toBe('compileThroughBcc');
  });

  it('takes the cache from BCC_CACHE, closes what it made in onClose, and restores the engine', async () => {
    const previous = process.env.BCC_CACHE;
    process.env.BCC_CACHE = 'memory:';
    try {
      const app = await server(
        (a) => a.register(fastifyBcc, { engine: { pug }, templates: views() }),
        'page.pug',
      );
      expect(app.bcc!.cache).toBeInstanceOf(MemoryBytecodeCache);
      expect(pug.compile.name).toBe('compileThroughBcc');
      await get(app);
      expect(app.bcc!.stats.compiled).toBe(1);
      await app.close();
      expect(pug.compile.name).not.toBe('compileThroughBcc');
    } finally {
      if (previous === undefined) delete process.env.BCC_CACHE;
      else process.env.BCC_CACHE = previous;
    }
  });

  it('bcc.bundle: Nunjucks keeps the pages a server loaded as one entry, written at close', async () => {
    const dir = views();
    const viewOptions = { engine: { nunjucks }, templates: dir, production: true } as BccViewOptions;
    const cache = new FileSystemBytecodeCache({ directory: join(dir, '.bcc') });
    const expected = await get(
      await server((app) => app.register(fastifyView, { ...viewOptions, engine: { nunjucks } }), 'page.njk'),
    );
    const names = async () => {
      const found: string[] = [];
      for await (const { key } of cache.listEntries()) {
        const inspected = inspectFrame((await cache.readEntry(key))!);
        if (inspected.ok) found.push(inspected.info.name);
      }
      return found;
    };
    const served: Record<string, number>[] = [];
    for (let round = 0; round < 3; round++) {
      const app = await server(
        (a) => a.register(fastifyBcc, { ...viewOptions, bcc: { cache, bundle: 'site' } }),
        'page.njk',
      );
      expect(await get(app)).toEqual(expected);
      served.push({ ...app.bcc!.stats });
      await app.close();
      if (round === 0) expect(await names()).toContain('bundle:site');
    }
    // compiled; from the bundle's JavaScript; from the bundle with V8's code
    expect(served[0]!.compiled).toBe(2);
    expect(served[1]).toMatchObject({ compiled: 0, cache: 2 });
    expect(served[2]).toMatchObject({ compiled: 0, cache: 0, cacheV8: 2 });
  });

  it('bcc.bundle is refused for engines without bundles', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(
      app.register(fastifyBcc, {
        engine: { pug },
        templates: views(),
        bcc: { cache: new MemoryBytecodeCache(), bundle: 'site' },
      }),
    ).rejects.toThrow(/bcc.bundle is for Nunjucks and Eta/);
  });

  it('refuses an engine bcc does not serve, and a cache that is not one, with a clear error', async () => {
    const app = Fastify();
    apps.push(app);
    await expect(
      app.register(fastifyBcc, { engine: { ejs: {} }, templates: views() }).ready(),
    ).rejects.toThrow(/serves nunjucks, handlebars, pug, eta/);
    const other = Fastify();
    apps.push(other);
    await expect(
      other
        .register(fastifyBcc, { engine: { pug }, templates: views(), bcc: { cache: {} as BytecodeCache } })
        .ready(),
    ).rejects.toThrow(/bcc cache/);
  });

  it('serves real HTTP requests on a listening socket', async () => {
    const app = await server(
      (a) =>
        a.register(fastifyBcc, {
          engine: { nunjucks },
          templates: views(),
          bcc: { cache: new MemoryBytecodeCache() },
        }),
      'page.njk',
    );
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const response = await fetch(address);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<main><h1>Hello &lt;bcc&gt;</h1>');
  });
});
