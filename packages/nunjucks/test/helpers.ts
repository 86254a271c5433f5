import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bucket, MemoryBytecodeCache } from '@bcc/core';
import type { Environment } from 'nunjucks';
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
export class AsyncOnlyCache extends MemoryBytecodeCache {
  loadManyCalls = 0;
  constructor() {
    super();
    // Hide the synchronous methods, as a network store (redis, memcached, s3) has none.
    (this as { loadBytecodeSync?: unknown }).loadBytecodeSync = undefined;
    (this as { dumpBytecodeSync?: unknown }).dumpBytecodeSync = undefined;
  }
  override async loadBytecode(bucket: Bucket): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    MemoryBytecodeCache.prototype.loadBytecodeSync.call(this, bucket);
  }
  override async dumpBytecode(bucket: Bucket): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    MemoryBytecodeCache.prototype.dumpBytecodeSync.call(this, bucket);
  }
  override async loadMany(buckets: readonly Bucket[]): Promise<void> {
    this.loadManyCalls++;
    for (const bucket of buckets) await this.loadBytecode(bucket);
  }
}

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
