/**
 * The entries the fuzzers start from: real frames made by `Bucket.bytecodeToBytes()` for a
 * handful of templates chosen to reach every branch of the decoder: empty, tiny, ASCII,
 * Latin-1 and UTF-16 JavaScript, with and without V8 cache bytes, and a large entry.
 */
import { createHash } from 'node:crypto';
import { Bucket, MemoryBytecodeCache } from '@bcc/core';

/** The environment every fuzz entry belongs to. */
/** Dependencies resolve to their stock source, so an entry that lists them is valid as written. */
export const ENVIRONMENT = {
  fingerprint: 'bcc-reliability/1',
  engine: 'reliability@1.0.0',
  readDependency: (name) => `source of ${name}`,
};

/** Secrets of the signed modes: S1 signs; the rotated reader accepts S2 and S1. */
export const SECRET_1 = Buffer.from('reliability secret one: 32 bytes');
export const SECRET_2 = Buffer.from('reliability secret two, rotated in');
export const SECRET_OTHER = Buffer.from('a secret the reader never had');

// Keys and checksums as every BytecodeCache derives them, so `cache.getBucket(ENVIRONMENT,
// name, null, source)` finds the entries the fuzzers plant.
const derive = new MemoryBytecodeCache();

/** The source text of a fuzz template (only its checksum matters). */
export const sourceOf = (name) => `source of ${name}`;

/** The entry key `cache.getBucket(ENVIRONMENT, name, null, …)` looks up. */
export const keyOf = (name) => derive.getCacheKey(name, null, ENVIRONMENT.fingerprint);

/** A template whose compiled code embeds its name, as Nunjucks' output does. */
function compiled(name, body) {
  return `(function ${name.replace(/\W/g, '_')}(ctx) {\n${body}\n})`;
}

function lines(count, make) {
  return Array.from({ length: count }, (_, i) => make(i)).join('\n');
}

/**
 * Stand-in V8 code cache bytes of a realistic size. The decoder treats them as opaque, and a
 * real `createCachedData()` differs from run to run, which would stop `--seed` from replaying a
 * run byte for byte; so they are derived from the JavaScript instead.
 */
function v8BytesFor(js, size) {
  const seed = createHash('sha256').update(js).digest();
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = seed[i % 32] ^ ((i * 131) & 0xff);
  return out;
}

/**
 * @typedef {{ name: string, source: string, key: string, checksum: string, js: string, v8: Uint8Array | undefined, weight: number, dependencies: { name: string, checksum: string }[] }} Template
 */

/** @returns {Template[]} */
export function makeTemplates() {
  const specs = [
    { name: 'empty.html', js: '', v8: false, weight: 1 },
    { name: 'tiny.html', js: compiled('tiny', 'return 1;'), v8: false, weight: 3 },
    {
      name: 'ascii.html',
      js: compiled(
        'ascii',
        `let out = '';\n${lines(40, (i) => `out += '<li>' + ctx.name + ' ${i}</li>';`)}\nreturn out;`,
      ),
      v8: true,
      weight: 4,
    },
    {
      name: 'latin1.html',
      js: compiled('latin1', `return 'café crème brûlée, Straße, ½ ' + ctx.name;`),
      v8: false,
      weight: 3,
    },
    {
      name: 'utf16.html',
      js: compiled('utf16', `return '日本語のテンプレート ✓ 🚀 ' + ctx.name;`),
      v8: true,
      weight: 3,
    },
    {
      name: 'random-v8.html',
      js: compiled('random_v8', 'return ctx.items.map((x) => x * 2).join(",");'),
      v8: 'random',
      weight: 2,
    },
    {
      name: 'with-deps.html',
      js: compiled('with_deps', `return 'layout + partial ' + ctx.name;`),
      v8: true,
      weight: 2,
      dependencies: ['layout.html', 'partials/ünï.html'],
    },
    {
      name: 'large.html',
      js: compiled(
        'large',
        `let out = '';\n${lines(1500, (i) => `if (ctx.items[${i % 3}] > ${i}) out += '<p>${i} ' + ctx.name + '</p>';`)}\nreturn out;`,
      ),
      v8: true,
      weight: 1,
    },
  ];
  return specs.map((spec) => {
    let v8;
    // Sizes as V8 made them for these scripts after one render: about half the JavaScript's.
    if (spec.v8 === true) v8 = v8BytesFor(spec.js, Math.max(600, spec.js.length >> 1));
    else if (spec.v8 === 'random') v8 = Uint8Array.from({ length: 700 }, (_, i) => (i * 131 + 7) & 0xff);
    return {
      name: spec.name,
      source: sourceOf(spec.name),
      key: keyOf(spec.name),
      checksum: derive.getSourceChecksum(sourceOf(spec.name)),
      js: spec.js,
      v8,
      weight: spec.weight,
      dependencies: (spec.dependencies ?? []).map((name) => ({
        name,
        checksum: derive.getSourceChecksum(sourceOf(name)),
      })),
    };
  });
}

/**
 * The frame a writer with `signingSecret` (or none) stores for `template`; `key` defaults to
 * the template's own (another key makes a replay).
 * @param {Template} template
 * @param {Uint8Array | undefined} signingSecret
 * @param {{ key?: string, js?: string }} [override]
 */
export function frameFor(template, signingSecret, override = {}) {
  const bucket = new Bucket(ENVIRONMENT, override.key ?? template.key, template.checksum, {
    secrets: signingSecret ? [signingSecret] : [],
    name: template.name,
  });
  const dependencies = template.dependencies.length > 0 ? { dependencies: template.dependencies } : {};
  bucket.code = template.v8
    ? { js: override.js ?? template.js, v8: template.v8, ...dependencies }
    : { js: override.js ?? template.js, ...dependencies };
  // A plain copy: a Buffer's slice() is a view, and a mutation must never reach the original.
  return Uint8Array.from(bucket.bytecodeToBytes());
}
