// pnpm bench (in packages/s3): against s3rver on a loopback port (or BCC_TEST_S3_ENDPOINT),
//  1. hit latency of getBucket against the raw SDK GetObject of the same bytes,
//  2. warming 100 entries through loadBuckets (16 GETs in flight) against 100 sequential loads,
//  3. a memory + s3 tiered cache: a load served by s3 against one served by memory after write-back,
//  4. how long a load takes to become a miss once the server is killed.
// Ratios, not absolutes, are what to compare between machines. Runs against dist (build first).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
const { GetObjectCommand } = await import('@aws-sdk/client-s3');
const { MemoryBytecodeCache, TieredBytecodeCache } = await import('@bcc/core');
const { startS3rver, TEST_S3_BUCKET, TEST_S3_CREDENTIALS } = await import('@bcc/test-servers');
const { S3BytecodeCache } = await import('../dist/index.js');

const server = process.env.BCC_TEST_S3_ENDPOINT ? null : await startS3rver();
const endpoint = process.env.BCC_TEST_S3_ENDPOINT ?? server.url;
const bucketName = process.env.BCC_TEST_S3_BUCKET ?? TEST_S3_BUCKET;
const env = { fingerprint: 'bench' };
const source = 'Hello {{ name }}';
const make = (options = {}) =>
  new S3BytecodeCache({
    bucket: bucketName,
    prefix: `bench-${process.pid}/`,
    clientConfig: { endpoint, credentials: { ...TEST_S3_CREDENTIALS } },
    ...options,
  });
const cache = make();

function code(seed, bytes) {
  const js = `(function(){ return ${JSON.stringify(seed)}; })\n${'/* template body */\n'.repeat(Math.ceil(bytes / 2 / 20))}`;
  const v8 = new Uint8Array(Math.floor(bytes / 2)).map((_, i) => (i * 2654435761) >>> 24);
  return { js, v8 };
}
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
async function time(fn, rounds) {
  const samples = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return median(samples);
}
const ms = (v) => v.toFixed(2).padStart(8);

console.log(`@bcc/s3 bench against ${endpoint} (Node ${process.version})\n`);
console.log('1. hit latency, ms per load (median of 30 rounds of 20 loads)');
console.log('   entry    raw GetObject   getBucket   ratio');
for (const size of [2_000, 20_000, 85_000]) {
  const name = `hit-${size}.html`;
  const bucket = cache.createBucket(env, name, null, source);
  bucket.code = code(name, size);
  await cache.setBucket(bucket);
  const key = cache.objectKey(bucket.key);
  const raw = await time(async () => {
    for (let i = 0; i < 20; i++) {
      const r = await cache.client.send(new GetObjectCommand({ Bucket: bucketName, Key: key }));
      await r.Body.transformToByteArray();
    }
  }, 30);
  const full = await time(async () => {
    for (let i = 0; i < 20; i++)
      if (!(await cache.getBucket(env, name, null, source)).code) throw new Error('expected a hit');
  }, 30);
  console.log(
    `   ${`${size / 1000} KB`.padEnd(8)}${ms(raw / 20)}      ${ms(full / 20)}  ${(full / raw).toFixed(2).padStart(6)}x`,
  );
}

console.log('\n2. warm-up of 100 entries of 20 KB, ms (median of 9 rounds)');
const names = Array.from({ length: 100 }, (_, i) => `warm-${i}.html`);
for (const name of names) {
  const b = cache.createBucket(env, name, null, source);
  b.code = code(name, 20_000);
  await cache.setBucket(b);
}
const batch = await time(async () => {
  const buckets = names.map((n) => cache.createBucket(env, n, null, source));
  await cache.loadBuckets(buckets);
  if (!buckets.every((b) => b.code)) throw new Error('expected hits');
}, 9);
const sequential = await time(async () => {
  for (const n of names)
    if (!(await cache.getBucket(env, n, null, source)).code) throw new Error('expected a hit');
}, 9);
console.log(
  `   loadBuckets ${ms(batch)}   sequential ${ms(sequential)}   speed-up ${(sequential / batch).toFixed(1)}x`,
);

console.log('\n3. memory + s3 tiers, 20 KB entry, ms per load (median of 30)');
const fromS3 = [];
const fromMemory = [];
for (let r = 0; r < 30; r++) {
  const tiered = new TieredBytecodeCache([new MemoryBytecodeCache(), cache]);
  let start = performance.now();
  await tiered.getBucket(env, 'warm-0.html', null, source);
  fromS3.push(performance.now() - start);
  await tiered.flush();
  start = performance.now();
  await tiered.getBucket(env, 'warm-0.html', null, source);
  fromMemory.push(performance.now() - start);
}
console.log(
  `   served by s3 ${ms(median(fromS3))}   by memory after write-back ${ms(median(fromMemory))}   ${(median(fromS3) / median(fromMemory)).toFixed(0)}x`,
);

if (server) {
  console.log(
    '\n4. the server killed: ms until a load is a miss (median of 10; default options: 3 attempts, 5 s deadline)',
  );
  const outage = make({ onError: () => {} });
  await outage.getBucket(env, 'warm-0.html', null, source); // a pooled keep-alive socket, as in a running app
  await server.kill();
  const miss = await time(async () => {
    if ((await outage.getBucket(env, 'warm-0.html', null, source)).code) throw new Error('expected a miss');
  }, 10);
  console.log(`   ${ms(miss)}`);
  await outage.close();
  await server.start();
}

await cache.clear();
await cache.close();
await server?.stop();
