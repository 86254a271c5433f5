import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // adapters.test.ts starts redis-server and memcached; the machine has two cores.
    fileParallelism: false,
    testTimeout: 20_000,
  },
});
