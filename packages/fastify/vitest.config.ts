import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // The process tests spawn Node; the machine has two cores.
    fileParallelism: false,
    testTimeout: 20_000,
  },
});
