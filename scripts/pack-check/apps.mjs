// The throwaway apps pack-check.mjs installs from the tarballs: each renders a Nunjucks page
// through bcc's filesystem cache, once cold and once warm, and prints what it rendered and where
// the template came from. They stand for the three kinds of app a team has.

export const views = {
  'layout.njk': '<html><body>{% block body %}{% endblock %}</body></html>\n',
  'page.njk': '{% extends "layout.njk" %}{% block body %}<h1>Hello {{ name }}</h1>{% endblock %}\n',
};

/** Shared body: `imports` names how the module kind brings in the packages. */
function body(kind) {
  return `
const directory = process.env.BCC_APP_CACHE;
const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(process.env.BCC_APP_VIEWS));
const froms${kind === 'ts' ? ': string[]' : ''} = [];
useBytecodeCache(env, new FileSystemBytecodeCache({ directory }), { onLoad: (e${kind === 'ts' ? ': { from: string }' : ''}) => froms.push(e.from) });
const html = env.render('page.njk', { name: 'Ada' });
console.log(JSON.stringify({ html, froms, core: typeof MemoryBytecodeCache }));
`;
}

export const apps = {
  // An ES module app (.mjs).
  esm: {
    files: {
      'app.mjs': `import nunjucks from 'nunjucks';
import { MemoryBytecodeCache } from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { useBytecodeCache } from '@bcc/nunjucks';
${body('js')}`,
    },
    run: ['app.mjs'],
  },
  // A CommonJS app (.cjs): require() of ESM-only packages, through Node's require(esm).
  cjs: {
    files: {
      'app.cjs': `const nunjucks = require('nunjucks');
const { MemoryBytecodeCache } = require('@bcc/core');
const { FileSystemBytecodeCache } = require('@bcc/fs');
const { useBytecodeCache } = require('@bcc/nunjucks');
${body('js')}`,
    },
    run: ['app.cjs'],
  },
  // TypeScript, module nodenext, compiled as ES modules ("type": "module").
  'ts-esm': {
    files: {
      'package.json': '{ "type": "module" }\n',
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          strict: true,
          outDir: 'out',
          types: ['node'],
          skipLibCheck: false,
        },
        include: ['app.ts'],
      }),
      'app.ts': `import nunjucks from 'nunjucks';
import { MemoryBytecodeCache } from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { useBytecodeCache } from '@bcc/nunjucks';
${body('ts')}`,
    },
    tsc: true,
    run: ['out/app.js'],
  },
  // TypeScript, module nodenext, compiled to CommonJS (no "type": "module"): imports become require().
  'ts-cjs': {
    files: {
      'package.json': '{ "type": "commonjs" }\n',
      'tsconfig.json': JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          target: 'es2022',
          strict: true,
          esModuleInterop: true,
          outDir: 'out',
          types: ['node'],
          skipLibCheck: false,
        },
        include: ['app.ts'],
      }),
      'app.ts': `import nunjucks = require('nunjucks');
import { MemoryBytecodeCache } from '@bcc/core';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { useBytecodeCache } from '@bcc/nunjucks';
${body('ts')}`,
    },
    tsc: true,
    run: ['out/app.js'],
  },
};
