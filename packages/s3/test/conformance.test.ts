import { runConformanceSuite } from '@bcc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BytecodeCache } from '../src/index.js';
import { type S3Fixture, startS3 } from './server.js';

let s3: S3Fixture;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.stop();
});

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 's3',
    create: ({ namespace, options }) => s3.cache({ prefix: `conformance/${namespace}/`, ...options }),
    // Port 1 on loopback: nothing listens, so every request is refused at once.
    createUnreachable: ({ options }) =>
      new S3BytecodeCache({
        bucket: 'unreachable',
        clientConfig: {
          endpoint: 'http://127.0.0.1:1',
          credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
          maxAttempts: 1,
        },
        ...options,
      }),
    features: { clear: true, isolation: true, sync: false },
  },
);
