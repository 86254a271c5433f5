import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { expectBundleLifecycle, type FreshProcessResult, fixtures, tempDir } from './helpers.js';

const run = promisify(execFile);
const script = join(fixtures.templatesDir, '..', 'render.mjs');

type RunResult = FreshProcessResult;

/** Renders the fixture pages in a fresh Node process (see fixtures/render.mjs). */
async function renderInFreshProcess(config: object): Promise<RunResult> {
  const { stdout } = await run(process.execPath, [script, JSON.stringify(config)], { encoding: 'utf8' });
  return JSON.parse(stdout) as RunResult;
}

// Through @bcc/fs, the synchronous store: both APIs, and async loaders forced with mode 'async'.
describe.each([
  ['synchronous API', 'sync', 'auto'],
  ['callback API', 'async', 'auto'],
  ['callback API, async loaders', 'async', 'async'],
])('fresh processes, %s', (_label, api, mode) => {
  const cache = tempDir();
  afterAll(() => cache.remove());
  let plain: RunResult;

  it('renders byte for byte as plain Nunjucks on a cold cache', async () => {
    plain = await renderInFreshProcess({ api });
    for (const output of Object.values(plain.outputs)) expect(typeof output).toBe('string');
    const cold = await renderInFreshProcess({ api, mode, cache: 'fs', cacheDir: cache.dir });
    expect(cold.outputs).toEqual(plain.outputs);
    expect(cold.stats!.compiled).toBeGreaterThan(0);
    expect(cold.stats!.cacheV8).toBe(0);
    expect(cold.stats!.codeCachesStored).toBe(cold.stats!.compiled);
  });

  it('renders byte for byte as plain Nunjucks on a warm cache, loading every template with V8 code cache', async () => {
    const warm = await renderInFreshProcess({ api, mode, cache: 'fs', cacheDir: cache.dir });
    expect(warm.outputs).toEqual(plain.outputs);
    expect(warm.stats).toMatchObject({ compiled: 0, cache: 0, codeCachesStored: 0 });
    expect(warm.stats!.cacheV8).toBeGreaterThan(0);
  });
});

// A process that renders one page (a serverless function's cold start) hashes its keys, sources
// and frames in WebAssembly instead of importing node:crypto and node:zlib (~6.5 ms of a fresh
// process on Node 24; see @bcc/core's digest.ts, whose tests cover the budget past which it does).
describe('fresh processes, one page', () => {
  const cache = tempDir();
  afterAll(() => cache.remove());

  it('import neither node:crypto nor node:zlib, cold or warm', async () => {
    const config = { api: 'async', pages: ['pages/home.njk'], cache: 'fs', cacheDir: cache.dir };
    const plain = await renderInFreshProcess({ api: 'async', pages: ['pages/home.njk'] });
    const cold = await renderInFreshProcess(config);
    const warm = await renderInFreshProcess(config);
    expect(cold.outputs).toEqual(plain.outputs);
    expect(warm.outputs).toEqual(plain.outputs);
    expect(warm.stats).toMatchObject({ compiled: 0, cache: 0 });
    expect(cold.loaded).toEqual({ crypto: false, zlib: false });
    expect(warm.loaded).toEqual({ crypto: false, zlib: false });
  });
});

// The working-set bundle: what V8 accepts has to be checked across processes.
describe('fresh processes, a working-set bundle', () => {
  const cache = tempDir();
  afterAll(() => cache.remove());

  it('is written by the first process, given V8 code by the second, and loads every template in the third', async () => {
    const plain = await renderInFreshProcess({ api: 'sync' });
    await expectBundleLifecycle(
      renderInFreshProcess,
      { api: 'sync', cache: 'fs', cacheDir: cache.dir, bundle: 'site' },
      plain,
    );
  });
});
