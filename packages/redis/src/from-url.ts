import { BccConfigError, type CacheUrlContext } from '@bcc/core';
import { RedisBytecodeCache } from './redis-cache.js';

/**
 * `redis://[user:password@]host[:port][/db]?prefix=&ttl=&commandTimeout=` (and `rediss://` for
 * TLS), for `createBytecodeCache` in `@bcc/core`. bcc's parameters are taken off; the rest of
 * the URL goes to ioredis as it is.
 *
 * ```ts
 * await createBytecodeCache('redis://cache:6379/0?prefix=app/&ttl=86400');
 * ```
 */
export function createFromUrl(url: URL, context: CacheUrlContext): RedisBytecodeCache {
  const { params, redacted } = context;
  if (context.hosts.length !== 1) {
    throw new BccConfigError(
      context.hosts.length === 0
        ? `${redacted}: name the server, e.g. redis://127.0.0.1:6379`
        : `${redacted}: a redis: URL names one server; for a Redis Cluster make the client yourself: new RedisBytecodeCache({ client: new Cluster([...]) })`,
    );
  }
  if (!/^\/?\d*$/.test(url.pathname)) {
    throw new BccConfigError(
      `${redacted}: the path of a redis: URL is the database number (redis://host:6379/0)`,
    );
  }
  const prefix = params.string('prefix');
  const ttl = params.integer('ttl', { min: 1, unit: 'seconds' });
  const commandTimeout = params.integer('commandTimeout', { min: 1, max: 600_000, unit: 'milliseconds' });
  const connection = new URL(url.href);
  connection.search = '';
  connection.hash = '';
  return new RedisBytecodeCache({
    ...context.options,
    url: connection.href,
    ...(prefix !== undefined ? { prefix } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
    ...(commandTimeout !== undefined ? { commandTimeout } : {}),
  });
}
