import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Environment } from 'nunjucks';
import { expect } from 'vitest';
// Plain JavaScript, shared with the child processes of processes.test.ts.
import * as setup from './fixtures/setup.mjs';

/** A Nunjucks environment with the internals the tests look at. */
export type FixtureEnvironment = Environment & {
  loaders: { emit(event: string, ...args: unknown[]): void; getSource: unknown; async?: boolean }[];
};

export interface FixtureSetup {
  templatesDir: string;
  syncPages: string[];
  asyncPages: string[];
  context: Record<string, unknown>;
  createEnvironment(options?: {
    noCache?: boolean;
    autoescape?: boolean;
    trimBlocks?: boolean;
    lstripBlocks?: boolean;
    dir?: string;
  }): FixtureEnvironment;
}

export const fixtures = setup as unknown as FixtureSetup;

/** A fresh temporary directory, removed by the returned function. */
export function tempDir(prefix = 'bcc-nunjucks-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A copy of the fixture templates that a test may edit. */
export function copyOfTemplates(): { dir: string; remove(): void } {
  const temp = tempDir();
  cpSync(fixtures.templatesDir, temp.dir, { recursive: true });
  return temp;
}

/** A memory cache without synchronous methods: stands in for any network store's interface. */
/** An async-only store without a server (shared with the other engine integrations' tests). */
export { AsyncOnlyMemoryCache as AsyncOnlyCache } from '@bcc/testkit';

/** Renders with the callback API. */
export function renderAsync(
  env: Environment,
  name: string,
  context: object = fixtures.context,
): Promise<string> {
  return new Promise((resolve, reject) => {
    env.render(name, context, (error: Error | null, result: string | null) =>
      error ? reject(error) : resolve(result ?? ''),
    );
  });
}

/** Renders with the callback API and returns the error (or fails). */
export function renderError(
  env: Environment,
  name: string,
  context: object = fixtures.context,
): Promise<Error> {
  return new Promise((resolve, reject) => {
    env.render(name, context, (error: Error | null) =>
      error ? resolve(error) : reject(new Error(`${name} rendered without an error`)),
    );
  });
}

/** What `fixtures/render.mjs` prints: each page's output (or error) and the handle's stats. */
export interface FreshProcessResult {
  outputs: Record<string, string | { error: string }>;
  stats: { compiled: number; cache: number; cacheV8: number; codeCachesStored: number } | null;
  /** Whether the process loaded `node:crypto` / `node:zlib`. */
  loaded: { crypto: boolean; zlib: boolean };
}

/**
 * A working-set bundle's life over three fresh processes with the same `config` (see
 * `fixtures/render.mjs`): the first compiles and stores it, the second renders from it without V8
 * code and adds that, the third loads every template from it with V8's code cache; every output is
 * plain Nunjucks' (`plain`).
 */
export async function expectBundleLifecycle(
  render: (config: object) => Promise<FreshProcessResult>,
  config: object,
  plain: FreshProcessResult,
): Promise<void> {
  const first = await render(config);
  expect(first.outputs).toEqual(plain.outputs);
  expect(first.stats!.compiled).toBeGreaterThan(0);
  const second = await render(config);
  expect(second.outputs).toEqual(plain.outputs);
  expect(second.stats).toMatchObject({ compiled: 0, cacheV8: 0 });
  const third = await render(config);
  expect(third.outputs).toEqual(plain.outputs);
  expect(third.stats).toMatchObject({ compiled: 0, cache: 0, codeCachesStored: 0 });
  expect(third.stats!.cacheV8).toBe(first.stats!.compiled);
  // Its members are vouched for by their files' stamps, and keys are hashed once: nothing makes
  // it import node:crypto or node:zlib (see @bcc/core's digest.ts).
  expect(third.loaded).toEqual({ crypto: false, zlib: false });
}
