import { ask, freePort, runServer, ServerProcess, type TestServer, tempDir } from './process.js';

/** Options of {@link startMemcached}. */
export interface MemcachedOptions {
  /** Item size limit (`memcached -I`), e.g. `'1m'` (the server's default) or `'4m'`. */
  itemSize?: string;
  /** Memory for items in megabytes (`memcached -m`), default 64. */
  memoryMb?: number;
}

/** Starts `memcached` on a free loopback port. */
export async function startMemcached(options: MemcachedOptions = {}): Promise<TestServer> {
  const port = await freePort();
  const dir = tempDir('bcc-memcached-');
  const args = ['-p', String(port), '-l', '127.0.0.1', '-U', '0', '-m', String(options.memoryMb ?? 64)];
  if (options.itemSize) args.push('-I', options.itemSize);
  // memcached refuses to run as root unless told which user to become.
  if (process.getuid?.() === 0) args.push('-u', 'root');
  const server = new ServerProcess('memcached', 'memcached', args, dir.path);
  return runServer(server, dir, port, `127.0.0.1:${port}`, () =>
    ask(port, 'version\r\n', (r) => r.includes('\r\n')),
  );
}
