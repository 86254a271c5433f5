import { startS3rver, TEST_S3_BUCKET, TEST_S3_CREDENTIALS, type TestServer } from '@bcc/test-servers';
import { S3BytecodeCache, type S3BytecodeCacheOptions } from '../src/index.js';

/**
 * An S3 server for one test file: s3rver on a loopback port, or the server named by
 * BCC_TEST_S3_ENDPOINT (bucket BCC_TEST_S3_BUCKET, credentials from the AWS environment or
 * s3rver's defaults). `server` is null for an external server: tests that stop it are skipped.
 */
export interface S3Fixture {
  endpoint: string;
  bucket: string;
  server: TestServer | null;
  cache(options?: Partial<S3BytecodeCacheOptions>): S3BytecodeCache;
  stop(): Promise<void>;
}

export const external = process.env.BCC_TEST_S3_ENDPOINT;

export async function startS3(): Promise<S3Fixture> {
  const server = external ? null : await startS3rver();
  const endpoint = external ?? server!.url;
  const bucket = process.env.BCC_TEST_S3_BUCKET ?? TEST_S3_BUCKET;
  const credentials =
    external && process.env.AWS_ACCESS_KEY_ID
      ? {
          accessKeyId: process.env.AWS_ACCESS_KEY_ID,
          secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? '',
        }
      : { ...TEST_S3_CREDENTIALS };
  const made: S3BytecodeCache[] = [];
  return {
    endpoint,
    bucket,
    server,
    cache(options = {}) {
      const cache = new S3BytecodeCache({
        bucket,
        clientConfig: { endpoint, region: 'us-east-1', credentials },
        ...options,
      });
      made.push(cache);
      return cache;
    },
    async stop() {
      await Promise.allSettled(made.map((c) => c.close()));
      await server?.stop();
    },
  };
}
