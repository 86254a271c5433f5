// pnpm bench (in packages/core): the frame against its floor and against JSON + base64, and
// instantiating from JavaScript alone against JavaScript + V8 code cache. Ratios, not absolutes,
// are what to compare between machines.
import { crc32 } from 'node:zlib';
import { Bucket, instantiate } from '../dist/index.js';
import { measure, table } from './harness.mjs';

const env = { fingerprint: 'bench' };

// ~40 KB of template-like JavaScript: many small functions, as template engines generate.
function templateLike(targetBytes, salt = '', text = '') {
  const parts = ['(function () {'];
  let i = 0;
  while (parts.join('\n').length < targetBytes) {
    parts.push(
      `function b_${i}${salt}(env, context, frame, runtime, cb) { var out = ""; var items = context.lookup("items_${i}") || [];` +
        ` for (var k = 0; k < items.length; k++) { out += "<li class=\\"item-${i}\\">" + runtime.escape(items[k].name) + "</li>"; }` +
        ` return cb(null, out + ${JSON.stringify(`block ${i}${text}`)}); }`,
    );
    i++;
  }
  const names = Array.from({ length: i }, (_, k) => `b_${k}${salt}`);
  parts.push(`return { ${names.map((n) => `${n}: ${n}`).join(', ')} };`, '})');
  return { js: parts.join('\n'), names };
}

const v8Random = new Uint8Array(45 * 1024).map((_, i) => (i * 2654435761) >>> 24);
let sink = 0;

function formatBench(label, js) {
  const bucket = new Bucket(env, 'key', 'checksum');
  bucket.code = { js, v8: v8Random };
  const frame = Buffer.from(bucket.bytecodeToBytes());
  // The floor the issue sets: CRC32 over a frame holding the JavaScript as UTF-8, plus
  // decoding that UTF-8. bcc stores Latin-1 or UTF-16LE instead, which can beat it.
  const utf8 = Buffer.from(js, 'utf8');
  const utf8Frame = Buffer.concat([Buffer.alloc(100), utf8, v8Random]);
  const json = JSON.stringify({ checksum: 'checksum', js, v8: Buffer.from(v8Random).toString('base64') });

  const encode = measure(() => {
    const b = new Bucket(env, 'key', 'checksum');
    b.code = { js, v8: v8Random };
    sink += b.bytecodeToBytes().length;
  });
  const decode = measure(() => {
    const b = new Bucket(env, 'key', 'checksum');
    b.bytecodeFromBytes(frame);
    sink += b.code.js.length;
  });
  const floor = measure(() => {
    sink += crc32(utf8Frame);
    sink += utf8.toString('utf8').length;
  });
  const jsonEncode = measure(() => {
    sink += JSON.stringify({ checksum: 'checksum', js, v8: Buffer.from(v8Random).toString('base64') }).length;
  });
  const jsonDecode = measure(() => {
    const o = JSON.parse(json);
    sink += Buffer.from(o.v8, 'base64').length + o.js.length;
  });
  console.log(
    `\n${label}: ${(utf8.length / 1024).toFixed(1)} KB JS (UTF-8) + ${(v8Random.length / 1024).toFixed(1)} KB V8; bcc frame ${(frame.length / 1024).toFixed(1)} KB`,
  );
  table('  format (median per call)', [
    ['encode (bytecodeToBytes)', encode],
    ['decode (bytecodeFromBytes)', decode, `${(decode / floor).toFixed(2)}× floor (target ≤ 1.3×)`],
    ['floor: crc32 + UTF-8 decoding', floor],
    ['JSON + base64 encode', jsonEncode, `bcc encode is ${(jsonEncode / encode).toFixed(1)}× faster`],
    [
      'JSON + base64 decode',
      jsonDecode,
      `bcc decode is ${(jsonDecode / decode).toFixed(1)}× faster (target ≥ 1.5×)`,
    ],
  ]);
}

formatBench('ASCII template output', templateLike(40 * 1024).js);
formatBench('non-ASCII template output (one ✓ per function)', templateLike(40 * 1024, '', ' — ✓').js);

// Instantiation: each call needs a distinct source, or V8's in-isolate compilation cache would
// answer and hide the cost we want to see. So prepare distinct scripts and their code caches.
const N = 60;
const scripts = Array.from({ length: N * 2 }, (_, k) => templateLike(40 * 1024, `_${k}`));
const cached = scripts.slice(N).map(({ js: source, names }) => {
  const r = instantiate({ js: source });
  const o = r.value();
  const ctx = { lookup: () => [{ name: 'a' }] };
  for (const n of names) o[n](null, ctx, null, { escape: String }, () => {});
  return { js: source, v8: r.createCodeCache(), names };
});
function timeAll(list, withCache) {
  const t0 = performance.now();
  for (const { js: source, v8, names } of list) {
    const r = instantiate(withCache ? { js: source, v8 } : { js: source });
    const ctx = { lookup: () => [{ name: 'a' }] };
    const o = r.value();
    for (const n of names) o[n](null, ctx, null, { escape: String }, () => {});
    if (withCache && r.codeCache !== 'accepted') throw new Error(`V8 refused the cache: ${r.codeCache}`);
  }
  return ((performance.now() - t0) * 1000) / list.length;
}
const fromJs = timeAll(scripts.slice(0, N), false);
const fromV8 = timeAll(cached, true);
table('instantiate + first call of every function (fresh source each time)', [
  ['from JavaScript alone', fromJs],
  [
    'from JavaScript + V8 code cache',
    fromV8,
    `${(fromJs / fromV8).toFixed(1)}× faster (V8 cache ${(cached[0].v8.length / 1024).toFixed(1)} KB)`,
  ],
]);
if (sink === 42) console.log('');
