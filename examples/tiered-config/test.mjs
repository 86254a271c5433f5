// pnpm test (after vitest): runs index.mjs as separate processes against a real Redis and s3rver
// started here, with BCC_CACHE="memory:,file:<tmp>,redis://…,s3://…", and checks which tier serves
// the entry as tiers are emptied or killed. Exits non-zero on any failure.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createBytecodeCache } from '@bcc/core';
import { startRedis, startS3rver, TEST_S3_BUCKET, TEST_S3_CREDENTIALS } from '@bcc/test-servers';

const awsEnv = {
  AWS_ACCESS_KEY_ID: TEST_S3_CREDENTIALS.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_S3_CREDENTIALS.secretAccessKey,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};
Object.assign(process.env, awsEnv);

const failures = [];
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures.push(what);
};

const directory = mkdtempSync(join(tmpdir(), 'bcc-example-tiered-'));
const emptyDirectory = () => {
  for (const name of readdirSync(directory)) rmSync(join(directory, name), { force: true });
};
const redis = await startRedis();
const s3 = await startS3rver();
const urls = {
  memory: 'memory:?maxBytes=16m',
  file: pathToFileURL(directory).href,
  redis: `${redis.url}?prefix=example/&ttl=3600`,
  s3: `s3://${TEST_S3_BUCKET}/example/?endpoint=${encodeURIComponent(s3.url)}`,
};
const spec = (...names) => names.map((n) => urls[n]).join(',');
const run = (bccCache) => {
  const out = execFileSync(process.execPath, ['index.mjs'], {
    cwd: import.meta.dirname,
    env: { ...process.env, BCC_CACHE: bccCache, BCC_SECRET: 'example-secret' },
    encoding: 'utf8',
  });
  process.stdout.write(`${out.trimEnd().replace(/^/gm, '    | ')}\n`);
  return out;
};
const servedBy = (out) =>
  /served by (\S+)\)/.exec(out)?.[1] ??
  (/loaded from: (\S+)/.exec(out)?.[1] === 'compiled' ? 'compiled' : '?');

try {
  const all = spec('memory', 'file', 'redis', 's3');

  console.log(`BCC_CACHE=${all}`);
  let out = run(all);
  check(out.includes('<p>Hello, Ada!</p>'), 'the template renders');
  check(out.includes('tiers: memory > fs > redis > s3'), 'the list makes one tier per URL, fastest first');
  check(
    out.includes('loaded from: compiled'),
    'first process: nothing cached, compiled and stored in every tier',
  );

  out = run(all);
  check(
    servedBy(out) === 'fs' && out.includes('cache+v8'),
    'second process: served by the filesystem (memory starts empty), with the V8 cache',
  );

  emptyDirectory();
  out = run(all);
  check(servedBy(out) === 'redis', 'filesystem emptied: served by redis');
  check(readdirSync(directory).length === 1, 'and written back to the filesystem');

  emptyDirectory();
  const redisOnly = await createBytecodeCache(urls.redis);
  await redisOnly.clear();
  await redisOnly.close();
  out = run(all);
  check(servedBy(out) === 's3', 'filesystem and redis emptied: served by s3');
  check(readdirSync(directory).length === 1, 'and written back to the filesystem');
  out = run(urls.redis);
  check(out.includes('loaded from: cache+v8'), 'and written back to redis');

  await redis.kill();
  emptyDirectory();
  out = run(all);
  check(
    servedBy(out) === 's3' && out.includes('<p>Hello, Ada!</p>'),
    'redis killed (a dead middle tier): still rendered, served by s3',
  );
  check(readdirSync(directory).length === 1, 'and written back to the filesystem despite the dead tier');

  out = run(spec('memory', 'file'));
  check(servedBy(out) === 'fs', 'BCC_CACHE="memory:,file:…" alone works too');
} catch (error) {
  failures.push(String(error?.stack ?? error));
  console.error(error);
} finally {
  await Promise.allSettled([redis.stop(), s3.stop()]);
  rmSync(directory, { recursive: true, force: true });
}

if (failures.length > 0) {
  console.error(`\n${failures.length} check(s) failed:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
console.log('\nall checks passed');
