import { statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as core from '@bcc/core';
import { BccConfigError } from '@bcc/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createFromUrl, type FileSystemBytecodeCache } from '../src/index.js';
import { environment, scratchDir } from './helpers.js';

function context(url: string, options: core.BytecodeCacheOptions = {}) {
  const parsed = new URL(url);
  const rest = url.slice('file:'.length);
  return {
    url: parsed,
    context: {
      options,
      params: { string: (name: string) => parsed.searchParams.get(name) ?? undefined },
      bare: rest === '' || rest.startsWith('?'),
      redacted: url,
    },
  };
}

const savedTmpdir = process.env.TMPDIR;
afterEach(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
});

describe('createFromUrl (file:)', () => {
  it('file: alone is the private default directory', () => {
    const tmp = scratchDir('tmp');
    process.env.TMPDIR = tmp;
    const { url, context: ctx } = context('file:');
    const cache = createFromUrl(url, ctx);
    expect(cache.directory).toBe(join(tmp, `_bcc-cache-${process.getuid!()}`));
    expect(cache.pattern).toBe('__bcc_%s.cache');
  });

  it('file:///path?pattern= picks the directory and pattern, passing the options on', () => {
    const directory = join(scratchDir(), 'with space', 'bcc');
    const errors: Error[] = [];
    const { url, context: ctx } = context(`${pathToFileURL(directory).href}?pattern=app_%25s.cache`, {
      onError: (e) => errors.push(e),
      secret: 'k',
    });
    const cache = createFromUrl(url, ctx);
    expect(cache.directory).toBe(directory);
    expect(cache.pattern).toBe('app_%s.cache');
    expect(statSync(directory).mode & 0o777).toBe(0o700);
    expect(cache.createBucket(environment, 'x', null, 's').signed).toBe(true);
  });

  it('accepts localhost and refuses other hosts and bad patterns', () => {
    const directory = scratchDir();
    const local = context(`file://localhost${directory}`);
    expect(createFromUrl(local.url, local.context).directory).toBe(directory);
    const remote = context('file://fileserver/share/bcc');
    expect(() => createFromUrl(remote.url, remote.context)).toThrow(BccConfigError);
    const bad = context(`${pathToFileURL(directory).href}?pattern=nokey`);
    expect(() => createFromUrl(bad.url, bad.context)).toThrow(/exactly one %s/);
  });

  // Through core's createBytecodeCache, once the core in dist has URL configuration.
  // Typed by hand: this test must also compile against a core without URL configuration.
  const createBytecodeCache = (
    core as { createBytecodeCache?: (spec: string) => Promise<core.BytecodeCache> }
  ).createBytecodeCache;
  it.skipIf(typeof createBytecodeCache !== 'function')('works through createBytecodeCache', async () => {
    const directory = scratchDir();
    const cache = await createBytecodeCache!(`file://${directory}?pattern=u_%25s`);
    // Core imports the built package, a different module instance than ../src: compare by shape.
    expect(cache.backendName).toBe('fs');
    expect((cache as FileSystemBytecodeCache).directory).toBe(directory);
    expect((cache as FileSystemBytecodeCache).pattern).toBe('u_%s');
    await expect(createBytecodeCache!(`file://${directory}?tll=1`)).rejects.toThrow(/unknown option "tll"/);
  });
});
