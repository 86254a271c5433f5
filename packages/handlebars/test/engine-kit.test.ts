// @bcc/handlebars runs the engine conformance suite of @bcc/testkit.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runEngineSuite } from '@bcc/testkit';
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { useBytecodeCache } from '../src/index.js';
import { cases, context, setUp } from './cases.mjs';

type Engine = { hb: typeof Handlebars; options: object };
const child = fileURLToPath(new URL('./fixtures/render.mjs', import.meta.url));

runEngineSuite<Engine>(
  { describe, it, expect },
  {
    name: 'handlebars',
    createEngine: (options) => {
      const hb = Handlebars.create();
      setUp(hb);
      return { hb, options: (options as object | undefined) ?? {} };
    },
    install: ({ hb }, cache) => useBytecodeCache(hb, cache, { onError: () => {} }),
    render: ({ hb, options }, source) => {
      try {
        return `ok ${hb.compile(source, options)(context)}`;
      } catch (error) {
        return `error ${(error as Error).name}: ${(error as Error).message}`;
      }
    },
    snapshot: ({ hb }) => [hb.compile],
    samples: cases.filter(([label]) => !/error/.test(label)).map(([, source]) => source),
    compileError: 'Hello {{#if}}',
    renderError: 'before {{fail}} after',
    edit: ['v1 {{title}}', 'v2 {{title}}!'],
    variants: [
      { name: 'noEscape', options: { noEscape: true }, source: '{{html}}' },
      { name: 'strict', options: { strict: true }, source: '{{user.missing.deep}}' },
      { name: 'knownHelpersOnly', options: { knownHelpersOnly: true }, source: '{{price 3}}' },
      { name: 'compat', options: { compat: true }, source: '{{#each items}}[{{title}}]{{/each}}' },
    ],
    inFreshProcess: (mode, directory) =>
      (
        JSON.parse(execFileSync(process.execPath, [child, mode, directory], { encoding: 'utf8' })) as {
          outcomes: string[];
        }
      ).outcomes.filter((_, i) => !/error/.test(cases[i]![0])),
    scratchDirectory: () => {
      const path = mkdtempSync(join(tmpdir(), 'bcc-hbs-kit-'));
      return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
    },
  },
);
