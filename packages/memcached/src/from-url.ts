import { BccConfigError, type CacheUrlContext } from '@bcc/core';
import { MemcachedBytecodeCache } from './memcached-cache.js';

/**
 * `memcached://[user:password@]host1[:port],host2[:port]?prefix=&ttl=&timeout=&maxItemSize=`,
 * for `createBytecodeCache` in `@bcc/core`. `user:password@` are SASL credentials; the port
 * defaults to 11211.
 *
 * ```ts
 * await createBytecodeCache('memcached://cache-a:11211,cache-b:11211?prefix=app/&ttl=86400');
 * ```
 */
export function createFromUrl(url: URL, context: CacheUrlContext): MemcachedBytecodeCache {
  const { params, redacted, hosts } = context;
  if (hosts.length === 0) {
    throw new BccConfigError(`${redacted}: name at least one server, e.g. memcached://127.0.0.1:11211`);
  }
  if (url.pathname !== '' && url.pathname !== '/') {
    throw new BccConfigError(`${redacted}: a memcached: URL has no path; set the key prefix with ?prefix=`);
  }
  for (const { host } of hosts) {
    // memjs splits "host:port" at the first colon, so it cannot reach an IPv6 literal.
    if (host.includes(':')) {
      throw new BccConfigError(
        `${redacted}: memjs cannot connect to the IPv6 address ${host}; use a host name or IPv4`,
      );
    }
  }
  const servers = hosts.map(({ host, port }) => `${host}:${port ?? 11211}`);
  const prefix = params.string('prefix');
  const ttl = params.integer('ttl', { min: 1, unit: 'seconds' });
  const timeout = params.integer('timeout', { min: 1, max: 600_000, unit: 'milliseconds' });
  const maxItemSize = params.bytes('maxItemSize');
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  return new MemcachedBytecodeCache({
    ...context.options,
    servers,
    ...(username !== undefined || password !== undefined ? { options: { username, password } } : {}),
    ...(prefix !== undefined ? { prefix } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
    ...(timeout !== undefined ? { timeout } : {}),
    ...(maxItemSize !== undefined ? { maxItemSize } : {}),
  });
}
