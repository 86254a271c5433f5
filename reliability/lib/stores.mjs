/**
 * The stores the scripts drive, each through its real adapter and a real server on loopback.
 * An adapter whose package is not built yet (no `dist`) is skipped with a reason, so the
 * scripts run while other packages are still being written.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Every store, fastest first. */
export const STORE_NAMES = ['memory', 'fs', 'tiered', 'redis', 'memcached', 's3'];

async function importAdapter(pkg) {
  try {
    return await import(pkg);
  } catch (error) {
    const code = /** @type {NodeJS.ErrnoException} */ (error).code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED') {
      throw new Error(`${pkg} is not built (run: pnpm --filter ${pkg} build)`);
    }
    throw error;
  }
}

let testServers;
async function servers() {
  testServers ??= await import('@bcc/test-servers');
  return testServers;
}

/**
 * @typedef {object} OpenStore
 * @property {string} name
 * @property {(options?: object, namespace?: string) => import('@bcc/core').BytecodeCache} create
 *   a new cache on this store; caches of different namespaces do not see each other's entries
 * @property {import('@bcc/test-servers').TestServer | undefined} server the server we started, if any
 * @property {string} [address] where clients connect (for child processes)
 * @property {() => Promise<void>} close stops what we started
 */

/**
 * Opens one store: imports its adapter and starts its server unless an env variable
 * (`BCC_TEST_REDIS_URL`, `BCC_TEST_MEMCACHED`, `BCC_TEST_S3_ENDPOINT`) names one.
 * @param {string} name
 * @returns {Promise<OpenStore>}
 */
export async function openStore(name) {
  if (name === 'memory') {
    const { MemoryBytecodeCache } = await import('@bcc/core');
    return {
      name,
      server: undefined,
      create: (options = {}) => new MemoryBytecodeCache(options),
      close: async () => {},
    };
  }
  if (name === 'fs') {
    const { FileSystemBytecodeCache } = await importAdapter('@bcc/fs');
    const root = mkdtempSync(join(tmpdir(), 'bcc-reliability-fs-'));
    return {
      name,
      server: undefined,
      address: root,
      create: (options = {}, namespace = 'default') =>
        new FileSystemBytecodeCache({ directory: join(root, namespace), ...options }),
      close: async () => rmSync(root, { recursive: true, force: true }),
    };
  }
  if (name === 'tiered') {
    // Memory over filesystem, as an app would stack them; the tiered cache makes the buckets,
    // so its own secret signs and verifies for both tiers.
    const { MemoryBytecodeCache, TieredBytecodeCache } = await import('@bcc/core');
    const { FileSystemBytecodeCache } = await importAdapter('@bcc/fs');
    const root = mkdtempSync(join(tmpdir(), 'bcc-reliability-tiered-'));
    return {
      name,
      server: undefined,
      address: root,
      create: (options = {}, namespace = 'default') =>
        new TieredBytecodeCache(
          [new MemoryBytecodeCache(), new FileSystemBytecodeCache({ directory: join(root, namespace) })],
          options,
        ),
      close: async () => rmSync(root, { recursive: true, force: true }),
    };
  }
  if (name === 'redis') {
    const { RedisBytecodeCache } = await importAdapter('@bcc/redis');
    const server = process.env.BCC_TEST_REDIS_URL ? undefined : await (await servers()).startRedis();
    const url = process.env.BCC_TEST_REDIS_URL ?? server.url;
    return {
      name,
      server,
      address: url,
      create: (options = {}, namespace = 'default') =>
        new RedisBytecodeCache({ url, prefix: `bcc-reliability/${namespace}/`, ...options }),
      close: async () => server?.stop(),
    };
  }
  if (name === 'memcached') {
    const { MemcachedBytecodeCache } = await importAdapter('@bcc/memcached');
    const server = process.env.BCC_TEST_MEMCACHED ? undefined : await (await servers()).startMemcached();
    const address = process.env.BCC_TEST_MEMCACHED ?? server.url;
    return {
      name,
      server,
      address,
      create: (options = {}, namespace = 'default') =>
        new MemcachedBytecodeCache({ servers: address, prefix: `bcc-reliability/${namespace}/`, ...options }),
      close: async () => server?.stop(),
    };
  }
  if (name === 's3') {
    const { S3BytecodeCache } = await importAdapter('@bcc/s3');
    const ts = await servers();
    const server = process.env.BCC_TEST_S3_ENDPOINT ? undefined : await ts.startS3rver();
    const endpoint = process.env.BCC_TEST_S3_ENDPOINT ?? server.url;
    return {
      name,
      server,
      address: endpoint,
      create: (options = {}, namespace = 'default') =>
        new S3BytecodeCache({
          bucket: process.env.BCC_TEST_S3_BUCKET ?? ts.TEST_S3_BUCKET,
          prefix: `bcc-reliability/${namespace}/`,
          clientConfig: { endpoint, region: 'us-east-1', credentials: ts.TEST_S3_CREDENTIALS },
          ...options,
        }),
      close: async () => server?.stop(),
    };
  }
  throw new Error(`unknown store ${name}; known: ${STORE_NAMES.join(', ')}`);
}

/**
 * Opens the stores that can be opened; the others are listed in `skipped` with the reason.
 * @param {readonly string[]} names
 */
export async function openStores(names) {
  /** @type {OpenStore[]} */
  const open = [];
  /** @type {{ name: string, reason: string }[]} */
  const skipped = [];
  for (const name of names) {
    try {
      open.push(await openStore(name));
    } catch (error) {
      skipped.push({ name, reason: error instanceof Error ? error.message.split('\n')[0] : String(error) });
    }
  }
  return { open, skipped, close: () => Promise.all(open.map((s) => s.close())) };
}
