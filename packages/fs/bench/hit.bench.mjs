// pnpm bench (in packages/fs): a cache hit against the cheapest way to read and decode the same
// file. Target: getBucket within 1.5x of readFileSync + decode. Run against dist (build first).
import { mkdtempSync, promises, readFile, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Bucket } from '@bcc/core';
import { FileSystemBytecodeCache } from '../dist/index.js';
import { compare, fmt, table } from './harness.mjs';

const environment = { fingerprint: 'bench' };
const directory = mkdtempSync(join(tmpdir(), 'bcc-fs-bench-'));
const cache = new FileSystemBytecodeCache({ directory });

// ~40 KB of template-like JavaScript (many small functions, as engines generate) + 45 KB of "V8" bytes.
function templateLike(targetBytes, salt) {
  const parts = ['(function () {'];
  for (let i = 0; parts.join('\n').length < targetBytes; i++) {
    parts.push(
      `function b_${i}_${salt}(env, context, frame, runtime, cb) { var out = ""; var items = context.lookup("items_${i}") || [];` +
        ` for (var k = 0; k < items.length; k++) { out += "<li>" + runtime.escape(items[k].name) + "</li>"; } return cb(null, out); }`,
    );
  }
  parts.push('})');
  return parts.join('\n');
}
const v8 = new Uint8Array(45 * 1024).map((_, i) => (i * 2654435761) >>> 24);
// A medium template's source (~6 KB): getBucket hashes it for the checksum, as every cache must.
const source = '<li>{{ item.name | title }}</li>\n'.repeat(190);

function store(name) {
  const bucket = cache.createBucket(environment, name, `/views/${name}`, source);
  bucket.code = { js: templateLike(40 * 1024, name), v8 };
  cache.setBucketSync(bucket);
  return bucket;
}

const main = store('page.njk');
const path = cache.pathOf(main.key);
const frameBytes = readFileSync(path).length;
let sink = 0;

function decode(bytes) {
  const bucket = new Bucket(environment, main.key, main.checksum);
  bucket.bytecodeFromBytes(bytes);
  if (!bucket.code) throw new Error('bench entry did not decode');
  sink += bucket.code.js.length;
}

const hitTimes = await compare([
  ['baseline', () => decode(readFileSync(path))],
  [
    'readSyncOnly',
    () => {
      sink += readFileSync(path).length;
    },
  ],
  ['promisesDecode', async () => decode(await promises.readFile(path))],
  [
    'hit',
    async () => {
      const bucket = await cache.getBucket(environment, 'page.njk', '/views/page.njk', source);
      sink += bucket.code.js.length;
    },
  ],
  [
    'hitSync',
    () => {
      sink += cache.getBucketSync(environment, 'page.njk', '/views/page.njk', source).code.js.length;
    },
  ],
  [
    'loadOnly',
    async () => {
      const bucket = new Bucket(environment, main.key, main.checksum);
      await cache.loadBytecode(bucket);
      sink += bucket.code.js.length;
    },
  ],
  [
    'keys',
    () => {
      sink += cache.createBucket(environment, 'page.njk', '/views/page.njk', source).key.length;
    },
  ],
]);
const { baseline: readSyncDecode, readSyncOnly, promisesDecode, hit, hitSync, loadOnly, keys } = hitTimes;

console.log(`entry: ${(frameBytes / 1024).toFixed(1)} KB frame (40 KB JS + 45 KB V8) in ${directory}`);
table('cache hit (median per call)', [
  ['readFileSync + decode (baseline)', readSyncDecode],
  ['readFileSync alone', readSyncOnly],
  [
    'fs.promises.readFile + decode',
    promisesDecode,
    `${(promisesDecode / readSyncDecode).toFixed(2)}× baseline`,
  ],
  ['getBucket (await, hit)', hit, `${(hit / readSyncDecode).toFixed(2)}× baseline (target ≤ 1.5×)`],
  ['getBucketSync (hit)', hitSync, `${(hitSync / readSyncDecode).toFixed(2)}× baseline`],
  [
    'loadBytecode only (no key/checksum hashing)',
    loadOnly,
    `${(loadOnly / readSyncDecode).toFixed(2)}× baseline`,
  ],
  ['key + source checksum (createBucket)', keys, 'part of every cache hit, any store'],
]);

// Warm-up of many entries: loadMany (sequential sync reads, yielding every 64) against reading
// them in parallel through the thread pool.
const names = Array.from({ length: 100 }, (_, i) => `t${i}.njk`);
for (const name of names) store(name);
const buckets = () => names.map((name) => cache.createBucket(environment, name, `/views/${name}`, source));
const prepared = buckets();
const manyTimes = await compare(
  [
    ['loadMany', () => cache.loadMany(buckets())],
    [
      'parallel',
      () =>
        Promise.all(
          prepared.map(
            (bucket) =>
              new Promise((resolve, reject) =>
                readFile(cache.pathOf(bucket.key), (error, bytes) => {
                  if (error) return reject(error);
                  new Bucket(environment, bucket.key, bucket.checksum).bytecodeFromBytes(bytes);
                  resolve();
                }),
              ),
          ),
        ),
    ],
    [
      'parallelPromises',
      () =>
        Promise.all(
          prepared.map(async (bucket) => {
            const bytes = await promises.readFile(cache.pathOf(bucket.key));
            new Bucket(environment, bucket.key, bucket.checksum).bytecodeFromBytes(bytes);
          }),
        ),
    ],
  ],
  { rounds: 11, ms: 60 },
);
const { loadMany, parallel, parallelPromises } = manyTimes;
table('100 entries (median per batch)', [
  ['loadMany (incl. key hashing)', loadMany],
  ['parallel fs.readFile + decode', parallel, `${(parallel / loadMany).toFixed(2)}× loadMany`],
  [
    'parallel fs.promises.readFile + decode',
    parallelPromises,
    `${(parallelPromises / loadMany).toFixed(2)}× loadMany`,
  ],
]);

const bucket = cache.createBucket(environment, 'w.njk', null, source);
bucket.code = { js: templateLike(40 * 1024, 'w'), v8 };
const { dumpSync, dumpAsync } = await compare(
  [
    ['dumpSync', () => cache.dumpBytecodeSync(bucket)],
    ['dumpAsync', () => cache.dumpBytecode(bucket)],
  ],
  { rounds: 11, ms: 40 },
);
table('writes (temp file + rename, median per call)', [
  ['dumpBytecodeSync', dumpSync],
  ['dumpBytecode', dumpAsync],
]);

rmSync(directory, { recursive: true, force: true });
if (sink === 0) console.log(fmt(0));
