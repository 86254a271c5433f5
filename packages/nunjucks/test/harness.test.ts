// The differential harness: generated environment configurations (tags, autoescape, trim and
// lstrip, throwOnUndefined, extensions with and without state, an async filter registered at
// different moments, shared and separate loaders, noCache) × generated templates × APIs
// (render sync and with a callback, getTemplate + render, renderString, Template), each run in
// fresh processes: plain Nunjucks, bcc with an empty filesystem cache, and bcc again warm. What
// happened (outputs, errors, their order) must be the same.
//
// CI runs a fixed seed and a bounded count; a longer run draws others:
//   BCC_HARNESS_SEED=random BCC_HARNESS_CASES=500 pnpm vitest run test/harness.test.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cases, variant } from './harness/cases.mjs';

const seedSetting = process.env.BCC_HARNESS_SEED ?? '20261129';
const seed = seedSetting === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(seedSetting);
const count = Number(process.env.BCC_HARNESS_CASES ?? 24);
const child = fileURLToPath(new URL('./harness/child.mjs', import.meta.url));

function run(testCase: unknown, mode: 'plain' | 'bcc', directory: string): string[] {
  const out = execFileSync(process.execPath, [child, JSON.stringify(testCase), mode, directory], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 20_000,
  });
  return JSON.parse(out.trim().split('\n').pop()!) as string[];
}

describe(`differential harness (seed ${seed}, ${count} cases)`, () => {
  for (const testCase of cases(seed, count)) {
    it(`case ${testCase.id}: ${testCase.api}, ${JSON.stringify(testCase.config)}`, () => {
      const directory = mkdtempSync(join(tmpdir(), 'bcc-harness-'));
      try {
        const context = `seed ${seed} case ${testCase.id}\npage: ${testCase.page}\npart: ${testCase.part}`;
        expect(run(testCase, 'bcc', directory), `cold, ${context}`).toEqual(
          run(testCase, 'plain', directory),
        );
        expect(run(testCase, 'bcc', directory), `warm, ${context}`).toEqual(
          run(testCase, 'plain', directory),
        );
        // The next deploy changes the extension's option: it must not get the old code.
        const next = variant(testCase);
        expect(run(next, 'bcc', directory), `warm, extension option changed, ${context}`).toEqual(
          run(next, 'plain', directory),
        );
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    }, 60_000);
  }
});
