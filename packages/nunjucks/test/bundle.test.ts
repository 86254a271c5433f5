import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BccConfigError,
  type BucketCode,
  inspectFrame,
  MAX_BUNDLE_MEMBERS,
  MemoryBytecodeCache,
} from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { afterEach, describe, expect, it } from 'vitest';
import { type NunjucksBytecodeCache, type TemplateLoadEvent, useBytecodeCache } from '../src/index.js';
import {
  AsyncOnlyCache,
  copyOfTemplates,
  type FixtureEnvironment,
  fixtures,
  renderAsync,
  tempDir,
} from './helpers.js';

const { context, syncPages } = fixtures;

function renderAll(env: FixtureEnvironment, pages: readonly string[] = syncPages): Record<string, string> {
  return Object.fromEntries(pages.map((page) => [page, env.render(page, context)]));
}

/** The names of the entries a cache holds (bundles are named `bundle:<name>`). */
async function entryNames(cache: MemoryBytecodeCache): Promise<string[]> {
  const names: string[] = [];
  for await (const { key } of cache.listEntries()) {
    const inspected = inspectFrame((await cache.readEntry(key))!);
    if (inspected.ok) names.push(inspected.info.name);
  }
  return names;
}

/** Stores `code` at the key of the environment's bundle `site`, as some other writer could. */
function writeBundleEntry(cache: MemoryBytecodeCache, handle: NunjucksBytecodeCache, code: BucketCode): void {
  const bucket = cache.createBucket(
    { fingerprint: handle.environment.fingerprint },
    'bundle:site',
    '\0bundle',
    'bcc:nunjucks-bundle:2',
  );
  bucket.code = code;
  expect(cache.setBucketSync(bucket)).toBe(true);
}

/** One "process": a fresh environment over the shared cache, rendering every page, then flush(). */
async function processRun(cache: MemoryBytecodeCache, dir?: string, pages?: readonly string[]) {
  const env = fixtures.createEnvironment(dir ? { dir } : {});
  const events: TemplateLoadEvent[] = [];
  const handle = useBytecodeCache(env, cache, { bundle: 'site', onLoad: (event) => events.push(event) });
  const hitsBefore = cache.stats.hits + cache.stats.misses;
  const output = renderAll(env, pages);
  const reads = cache.stats.hits + cache.stats.misses - hitsBefore;
  const writesBefore = cache.stats.writes;
  await handle.flush();
  return {
    output,
    reads,
    events,
    stats: { ...handle.stats },
    bundleWrites: cache.stats.writes - writesBefore,
  };
}

describe('working-set bundles (option bundle)', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  /**
   * A copy of the fixture templates and a memory cache holding their complete bundle (the first
   * process stores it, the second adds V8's code). `stamped`: wait first, so that the copied
   * files are old enough for their stamps to be recorded (see stampedSourceChecksum).
   */
  async function bundledCopy(options: { stamped?: boolean } = {}) {
    const copy = copyOfTemplates();
    cleanups.push(copy.remove);
    if (options.stamped) await new Promise((resolve) => setTimeout(resolve, 2_100));
    const cache = new MemoryBytecodeCache();
    await processRun(cache, copy.dir);
    await processRun(cache, copy.dir);
    return { dir: copy.dir, cache };
  }

  /** Appends a comment to a copied template (a real edit: new text, new stamp). */
  function edit(dir: string, template: string): void {
    const file = join(dir, template);
    writeFileSync(file, `${readFileSync(file, 'utf8')}<!-- edited -->`);
  }

  it('the first process stores its templates as one entry, the next adds V8 code, later ones read one entry', async () => {
    const plain = renderAll(fixtures.createEnvironment());
    const cache = new MemoryBytecodeCache();

    const first = await processRun(cache);
    expect(first.output).toEqual(plain);
    expect(first.stats.compiled).toBe(11);
    expect(first.bundleWrites).toBe(1);
    expect(await entryNames(cache)).toContain('bundle:site');

    // The bundle has no V8 code yet: its templates come from it (one read), compiled by V8 now.
    const second = await processRun(cache);
    expect(second.output).toEqual(plain);
    expect(second.reads).toBe(1);
    expect(second.stats).toMatchObject({ compiled: 0, cache: 11, cacheV8: 0 });
    expect(second.bundleWrites).toBe(1);

    const third = await processRun(cache);
    expect(third.output).toEqual(plain);
    expect(third.reads).toBe(1);
    expect(third.stats).toMatchObject({ compiled: 0, cache: 0, cacheV8: 11 });
    expect(third.events.every((event) => event.from === 'cache+v8')).toBe(true);
    // A process that only used a complete bundle writes nothing.
    expect(third.bundleWrites).toBe(0);
  });

  it('serves the unchanged members when one file changed, compiles that one, and writes a new bundle', async () => {
    const copy = await bundledCopy();
    const cache = copy.cache;
    edit(copy.dir, 'partials/post.njk');
    const plain = renderAll(fixtures.createEnvironment({ dir: copy.dir }));
    const edited = await processRun(cache, copy.dir);
    expect(edited.output).toEqual(plain);
    // The edited template compiles; the others still come from the bundle, with V8's code.
    expect(edited.stats.compiled).toBe(1);
    expect(edited.stats.cacheV8).toBe(10);
    expect(edited.reads).toBe(2);
    expect(edited.bundleWrites).toBe(1);

    // The new bundle holds the edited file as it is now (JavaScript first, then V8's code).
    const next = await processRun(cache, copy.dir);
    expect(next.stats).toMatchObject({ compiled: 0, cache: 11 });
    const after = await processRun(cache, copy.dir);
    expect(after.output).toEqual(plain);
    expect(after.reads).toBe(1);
    expect(after.stats).toMatchObject({ compiled: 0, cacheV8: 11 });
    expect(after.bundleWrites).toBe(0);
  });

  // The fixture templates were checked out long before the test: their stamps are recorded.
  it('serves members whose files keep their stamp without hashing their sources', async () => {
    const cache = new MemoryBytecodeCache();
    const plain = renderAll(fixtures.createEnvironment());
    await processRun(cache);
    await processRun(cache);
    const hashed: string[] = [];
    const checksumOf = cache.getSourceChecksum.bind(cache);
    cache.getSourceChecksum = (source: string) => {
      hashed.push(source);
      return checksumOf(source);
    };
    const third = await processRun(cache);
    expect(third.output).toEqual(plain);
    expect(third.stats).toMatchObject({ compiled: 0, cacheV8: 11 });
    // only the bundle's own key text, never a template's source
    expect(hashed).toEqual(['bcc:nunjucks-bundle:2']);

    // The same sources through another loader (not Nunjucks' FileSystemLoader, so its text is
    // not vouched for by the file): each is hashed and compared.
    const env = fixtures.createEnvironment();
    const loader = env.loaders[0] as unknown as { getSource(name: string): unknown };
    const original = loader.getSource;
    loader.getSource = function (this: typeof loader, name: string) {
      return original.call(this, name);
    };
    const handle = useBytecodeCache(env, cache, { bundle: 'site' });
    expect(renderAll(env)).toEqual(plain);
    expect(handle.stats).toMatchObject({ compiled: 0, cacheV8: 11 });
    // the bundle's key text again, then each of the 11 sources
    expect(hashed.length).toBe(1 + 1 + 11);

    // Nor when FileSystemLoader itself was patched after bcc was imported (a preprocessor).
    const prototype = Object.getPrototypeOf(fixtures.createEnvironment().loaders[0]) as {
      getSource(name: string): unknown;
    };
    const pristine = prototype.getSource;
    prototype.getSource = function (this: unknown, name: string) {
      return pristine.call(this, name);
    };
    try {
      const patched = fixtures.createEnvironment();
      const patchedHandle = useBytecodeCache(patched, cache, { bundle: 'site' });
      expect(renderAll(patched)).toEqual(plain);
      expect(patchedHandle.stats).toMatchObject({ compiled: 0, cacheV8: 11 });
      // again the bundle's key text and the 11 sources
      expect(hashed.length).toBe(1 + 2 * (1 + 11));
    } finally {
      prototype.getSource = pristine;
    }
  });

  // Stamps are recorded only for files that changed more than two seconds before (see
  // stampedSourceChecksum), hence the wait after copying the templates.
  it('a file with a new stamp is served by its checksum when its text is the same, and compiled when not', async () => {
    const copy = await bundledCopy({ stamped: true });
    const cache = copy.cache;

    const homeFile = join(copy.dir, 'pages', 'home.njk');
    writeFileSync(homeFile, readFileSync(homeFile, 'utf8'));
    const same = await processRun(cache, copy.dir);
    expect(same.stats).toMatchObject({ compiled: 0, cacheV8: 11 });
    expect(same.bundleWrites).toBe(0);

    // An edit, then a process that renders only the page including the edited file: the new
    // bundle keeps the members it did not serve, since their files still have their stamps.
    edit(copy.dir, 'partials/post.njk');
    const home = await processRun(cache, copy.dir, ['pages/home.njk']);
    expect(home.output['pages/home.njk']).toBe(
      fixtures.createEnvironment({ dir: copy.dir }).render('pages/home.njk', context),
    );
    expect(home.stats.compiled).toBe(1);
    expect(home.bundleWrites).toBe(1);
    const next = await processRun(cache, copy.dir);
    expect(next.output).toEqual(renderAll(fixtures.createEnvironment({ dir: copy.dir })));
    expect(next.stats).toMatchObject({ compiled: 0, cache: 11 });
  });

  it('a new bundle after an edit drops the members it could not check without reading their files', async () => {
    // Files written just now have no stamp (see stampedSourceChecksum): a member this process
    // did not serve cannot be vouched for, so it is left out rather than its file read.
    const copy = await bundledCopy();
    const cache = copy.cache;
    edit(copy.dir, 'partials/post.njk');
    const home = await processRun(cache, copy.dir, ['pages/home.njk']);
    expect(home.bundleWrites).toBe(1);
    const next = await processRun(cache, copy.dir);
    expect(next.output).toEqual(renderAll(fixtures.createEnvironment({ dir: copy.dir })));
    // from the new bundle: what pages/home.njk used; the rest from their own entries
    expect(next.stats.cache).toBe(home.events.length);
    expect(next.stats.cache + next.stats.cacheV8).toBe(11);
  });

  it('does not serve a template whose source changed after the bundle was read', async () => {
    const copy = await bundledCopy();
    const cache = copy.cache;

    const env = fixtures.createEnvironment({ dir: copy.dir, noCache: true });
    const handle = useBytecodeCache(env, cache, { bundle: 'site' });
    expect(env.render('pages/home.njk', context)).toBe(
      fixtures.createEnvironment({ dir: copy.dir }).render('pages/home.njk', context),
    );
    const file = join(copy.dir, 'pages', 'home.njk');
    writeFileSync(file, readFileSync(file, 'utf8').replace('<h1>', '<h1>changed after the bundle was read '));
    const rendered = env.render('pages/home.njk', context);
    expect(rendered).toContain('changed after the bundle was read');
    expect(rendered).toBe(fixtures.createEnvironment({ dir: copy.dir }).render('pages/home.njk', context));
    expect(handle.stats.compiled).toBe(1);
  });

  it('stops serving from the bundle when the environment changes what templates compile to', async () => {
    const cache = new MemoryBytecodeCache();
    await processRun(cache);
    await processRun(cache);

    const env = fixtures.createEnvironment();
    const handle = useBytecodeCache(env, cache, { bundle: 'site' });
    env.render('pages/home.njk', context);
    expect(handle.stats.cacheV8).toBeGreaterThan(0);
    const before = handle.stats.cacheV8;
    // An async filter changes the generated code (and the fingerprint).
    env.addFilter(
      'later',
      (value: unknown, done: (error: null, result: string) => void) => done(null, String(value)),
      true,
    );
    const plainEnv = fixtures.createEnvironment();
    plainEnv.addFilter(
      'later',
      (value: unknown, done: (error: null, result: string) => void) => done(null, String(value)),
      true,
    );
    expect(env.render('pages/list.njk', context)).toBe(plainEnv.render('pages/list.njk', context));
    expect(handle.stats.cacheV8).toBe(before);
    expect(handle.stats.compiled).toBeGreaterThan(0);
  });

  it('ignores a bundle entry whose code is not what bcc writes, and renders as without it', async () => {
    const plain = renderAll(fixtures.createEnvironment());
    const home = join(fixtures.templatesDir, 'pages/home.njk');
    const member = JSON.stringify([
      [home, new MemoryBytecodeCache().getSourceChecksum(readFileSync(home, 'utf8')), null],
    ]);
    const empty = '(function () {\n})';
    // Other code under the bundle's key, listing pages/home.njk with its true checksum, so that
    // only the check of the code's shape stands between it and a render.
    const cases: BucketCode[] = [
      { js: `[${empty}]` },
      { js: '"not an object"' },
      { js: `({ members: ${member}, templates: [(function () {\n` },
      { js: '({ members: [], templates: [] })' },
      { js: `({ members: ${member}, templates: [${empty}, ${empty}] })` },
      { js: `({ members: ${member}, templates: [1] })` },
      { js: `({ members: [["${home}", 5, null]], templates: [${empty}] })` },
      { js: `({ get members() { throw new Error('no') }, templates: [${empty}] })` },
      // version 1's shape: members as frame dependencies
      {
        js: `[${empty}]`,
        dependencies: [
          { name: home, checksum: new MemoryBytecodeCache().getSourceChecksum(readFileSync(home, 'utf8')) },
        ],
      },
    ];
    for (const code of cases) {
      const cache = new MemoryBytecodeCache();
      await processRun(cache);
      const env = fixtures.createEnvironment();
      const handle = useBytecodeCache(env, cache, { bundle: 'site' });
      writeBundleEntry(cache, handle, code);
      expect(renderAll(env), code.js).toEqual(plain);
      // Every template came from its own entry.
      expect(handle.stats.cacheV8, code.js).toBe(11);
    }
  });

  it(`ignores a bundle that lists more than ${MAX_BUNDLE_MEMBERS} members`, async () => {
    const cache = new MemoryBytecodeCache();
    const env = fixtures.createEnvironment();
    const handle = useBytecodeCache(env, cache, { bundle: 'site' });
    const home = join(fixtures.templatesDir, 'pages/home.njk');
    const listed = JSON.stringify([home, cache.getSourceChecksum(readFileSync(home, 'utf8')), null]);
    const count = MAX_BUNDLE_MEMBERS + 1;
    writeBundleEntry(cache, handle, {
      js: `({ members: [${Array(count).fill(listed).join(',')}], templates: [${Array(count).fill('(function () {\n})').join(',')}] })`,
    });
    expect(env.render('pages/home.njk', context)).toBe(
      fixtures.createEnvironment().render('pages/home.njk', context),
    );
    expect(handle.stats.compiled).toBeGreaterThan(0);
  });

  it('works the same over an asynchronous store, with the callback API', async () => {
    const pages = [...syncPages, ...fixtures.asyncPages];
    const renderEvery = async (env: FixtureEnvironment) =>
      Object.fromEntries(
        await Promise.all(pages.map(async (page) => [page, await renderAsync(env, page, context)])),
      );
    const plain = await renderEvery(fixtures.createEnvironment());
    const cache = new AsyncOnlyCache();
    const runOnce = async () => {
      const env = fixtures.createEnvironment();
      const handle = useBytecodeCache(env, cache, { bundle: 'site' });
      expect(handle.mode).toBe('async');
      const readsBefore = cache.stats.hits + cache.stats.misses;
      const output = await renderEvery(env);
      const reads = cache.stats.hits + cache.stats.misses - readsBefore;
      await handle.flush();
      return { output, reads, stats: { ...handle.stats } };
    };
    const first = await runOnce();
    expect(first.output).toEqual(plain);
    const second = await runOnce();
    expect(second.output).toEqual(plain);
    expect(second.stats).toMatchObject({ compiled: 0, cacheV8: 0 });
    const third = await runOnce();
    expect(third.output).toEqual(plain);
    expect(third.reads).toBe(1);
    expect(third.stats).toMatchObject({ compiled: 0, cache: 0, codeCachesStored: 0 });
    expect(third.stats.cacheV8).toBe(first.stats.compiled);
  });

  it('a store failing on the bundle read fails nothing else (strict mode: the render that needed it)', async () => {
    const plain = await renderAsync(fixtures.createEnvironment(), 'pages/home.njk', context);
    // A store that fails every read of the bundle entry, and answers the others.
    class SickStore extends AsyncOnlyCache {
      override async loadBytecode(bucket: Parameters<AsyncOnlyCache['loadBytecode']>[0]): Promise<void> {
        if (bucket.name?.startsWith('bundle:')) throw new Error('connection reset');
        await super.loadBytecode(bucket);
      }
    }
    for (const ignoreErrors of [true, false]) {
      const cache = new SickStore();
      (cache as unknown as { ignoreErrors: boolean }).ignoreErrors = ignoreErrors;
      const env = fixtures.createEnvironment();
      const handle = useBytecodeCache(env, cache, { bundle: 'site' });
      const first = await renderAsync(env, 'pages/home.njk', context).catch((error: Error) => error);
      if (ignoreErrors) {
        expect(first).toBe(plain);
        // Reported (a process warning, or onError), counted, and taken as a miss.
        expect(cache.stats.errors).toBeGreaterThanOrEqual(1);
        expect(await renderAsync(env, 'pages/list.njk', context)).toBe(
          await renderAsync(fixtures.createEnvironment(), 'pages/list.njk', context),
        );
      } else {
        // Strict mode (ignoreErrors: false) reports the failed read to the render that needed it,
        // as it does for any entry.
        expect(first).toBeInstanceOf(Error);
      }
      await handle.flush();
    }
  });

  it('a bundle larger than the store takes is not stored, and nothing else changes', async () => {
    const plain = renderAll(fixtures.createEnvironment());
    // Room for each template's entry (at most ~17 KB here), not for all of them in one.
    const cache = new MemoryBytecodeCache({ maxBytes: 30_000 });
    const first = await processRun(cache);
    expect(first.output).toEqual(plain);
    expect(await entryNames(cache)).not.toContain('bundle:site');
    const second = await processRun(cache);
    expect(second.output).toEqual(plain);
    expect(second.stats.compiled + second.stats.cache + second.stats.cacheV8).toBe(11);
  });

  it('needs a sensible name', () => {
    expect(() =>
      useBytecodeCache(fixtures.createEnvironment(), new MemoryBytecodeCache(), { bundle: '' }),
    ).toThrow(BccConfigError);
    expect(() =>
      useBytecodeCache(fixtures.createEnvironment(), new MemoryBytecodeCache(), { bundle: 'x'.repeat(201) }),
    ).toThrow(BccConfigError);
    expect(() =>
      useBytecodeCache(fixtures.createEnvironment(), new MemoryBytecodeCache(), {
        bundle: 42 as unknown as string,
      }),
    ).toThrow(BccConfigError);
  });

  it('signs the bundle like any entry: a process with another secret does not use it', async () => {
    const plain = renderAll(fixtures.createEnvironment());
    const dir = tempDir('bcc-bundle-signed-');
    cleanups.push(dir.remove);
    const run = async (secret: string) => {
      const env = fixtures.createEnvironment();
      const handle = useBytecodeCache(env, new FileSystemBytecodeCache({ directory: dir.dir, secret }), {
        bundle: 'site',
      });
      const output = renderAll(env);
      await handle.flush();
      return { output, stats: { ...handle.stats } };
    };
    await run('one');
    await run('one');
    expect((await run('one')).stats).toMatchObject({ compiled: 0, cacheV8: 11 });
    const other = await run('two');
    expect(other.output).toEqual(plain);
    expect(other.stats).toMatchObject({ compiled: 11, cache: 0, cacheV8: 0 });
  });
});
