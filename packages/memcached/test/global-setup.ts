import { startMemcached } from '@bcc/test-servers';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The memcached the conformance tests use: `BCC_TEST_MEMCACHED`, or one started here. */
    memcachedServers: string;
  }
}

/** Starts one memcached for the whole run, unless BCC_TEST_MEMCACHED (`host:port[,host:port]`) names servers. */
export default async function setup(project: TestProject) {
  const external = process.env.BCC_TEST_MEMCACHED;
  if (external) {
    project.provide('memcachedServers', external);
    return;
  }
  const server = await startMemcached();
  project.provide('memcachedServers', server.url);
  return () => server.stop();
}
