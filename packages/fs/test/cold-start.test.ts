// A cold start that reads templates from a warm cache must not pay for importing
// node:fs/promises (~1.2 ms on Node 24): the filesystem cache reads synchronously and loads the
// promise API only for what needs it (asynchronous writes, clear()).
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { scratchDir } from './helpers.js';

const fixture = fileURLToPath(new URL('./fixtures/cold-start.mjs', import.meta.url));

describe('cold start', () => {
  it('reads a template from a warm cache without loading node:fs/promises, node:crypto or node:zlib', () => {
    const directory = join(scratchDir(), 'cache');
    const run = () => JSON.parse(execFileSync(process.execPath, [fixture, directory], { encoding: 'utf8' }));
    const cold = run();
    expect(cold.from).toBe('compiled');
    const warm = run();
    expect(warm.from).toBe('cache+v8');
    expect(warm.value).toBe('Hello {{ name }}');
    expect(warm.loaded).not.toContain('NativeModule fs/promises');
    // nor node:crypto or node:zlib (keys, checksums and frames are hashed in WebAssembly)
    expect(warm.loaded).not.toContain('NativeModule crypto');
    expect(warm.loaded).not.toContain('NativeModule zlib');
    expect(warm.loaded).toContain('NativeModule vm'); // the fixture sees what it claims to
  });
});
