import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Each file starts its own s3rver; two cores, so one file at a time.
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      // Never let the SDK's credential chain reach for the EC2 metadata address.
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  },
});
