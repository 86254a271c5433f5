import { startRedis } from '@bcc/test-servers';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Redis the conformance tests use: `BCC_TEST_REDIS_URL`, or a redis-server started here. */
    redisUrl: string;
  }
}

/** Starts one redis-server for the whole run, unless BCC_TEST_REDIS_URL points at one. */
export default async function setup(project: TestProject) {
  const external = process.env.BCC_TEST_REDIS_URL;
  if (external) {
    project.provide('redisUrl', external);
    return;
  }
  const server = await startRedis();
  project.provide('redisUrl', server.url);
  return () => server.stop();
}
