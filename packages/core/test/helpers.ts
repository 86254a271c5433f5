import { Bucket } from '../src/bucket.js';

export const env = { fingerprint: 'test-env' };

/** A bucket holding code with non-ASCII JavaScript and a V8 part of `v8Bytes` bytes. */
export function filledBucket(
  v8Bytes = 64,
  js = '(function(){ return "héllo ✓ 模板 🎉"; })',
  secrets?: Uint8Array[],
) {
  const bucket = new Bucket(env, 'key-1', 'checksum-1', { secrets });
  const v8 = new Uint8Array(v8Bytes);
  for (let i = 0; i < v8.length; i++) v8[i] = (i * 7919) & 0xff;
  bucket.code = { js, v8 };
  return bucket;
}

export function emptyLike(bucket: Bucket, secrets?: Uint8Array[]) {
  return new Bucket(bucket.environment, bucket.key, bucket.checksum, { secrets });
}
