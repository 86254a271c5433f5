import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { BccConfigError, type CacheUrlContext } from '@bcc/core';
import { S3BytecodeCache } from './s3-cache.js';

/**
 * `s3://bucket/prefix?region=&endpoint=&forcePathStyle=&requestTimeout=`, for
 * `createBytecodeCache` in `@bcc/core`. The path is the key prefix (default `bcc/`).
 * Credentials come from the AWS default chain (environment, shared config, instance role),
 * never from the URL.
 *
 * ```ts
 * await createBytecodeCache('s3://my-bucket/bcc/?region=eu-west-1');
 * await createBytecodeCache('s3://bcc/app/?endpoint=http://127.0.0.1:9000'); // MinIO, s3rver …
 * ```
 */
export function createFromUrl(url: URL, context: CacheUrlContext): S3BytecodeCache {
  const { params, redacted } = context;
  if (url.username || url.password) {
    throw new BccConfigError(
      `${redacted}: s3: URLs take no credentials; use the AWS environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_PROFILE) or an instance role`,
    );
  }
  if (context.hosts.length !== 1 || url.port) {
    throw new BccConfigError(
      `${redacted}: write the bucket as the host, without a port: s3://my-bucket/prefix/`,
    );
  }
  const bucket = decodeURIComponent(url.hostname);
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''));
  const clientConfig: S3ClientConfig = {};
  const region = params.string('region');
  if (region !== undefined) clientConfig.region = region;
  const endpoint = params.string('endpoint');
  if (endpoint !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(endpoint);
    } catch {}
    if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      throw new BccConfigError(
        `option "endpoint" in ${redacted} must be an http:// or https:// URL, got ${JSON.stringify(endpoint)}`,
      );
    }
    clientConfig.endpoint = endpoint;
  }
  const forcePathStyle = params.boolean('forcePathStyle');
  if (forcePathStyle !== undefined) clientConfig.forcePathStyle = forcePathStyle;
  const requestTimeout = params.integer('requestTimeout', { min: 1, max: 600_000, unit: 'milliseconds' });
  return new S3BytecodeCache({
    ...context.options,
    bucket,
    ...(path ? { prefix: path } : {}),
    clientConfig,
    ...(requestTimeout !== undefined ? { requestTimeout } : {}),
  });
}
