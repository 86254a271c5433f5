import { createHash } from 'node:crypto';
import { BccConfigError } from '@bcc/core';

/** memcached refuses longer keys, and memjs then hangs the connection's next request. */
export const MAX_KEY_BYTES = 250;
/** Namespace versions the cache writes: base-36, at most this long. */
export const MAX_VERSION_LENGTH = 16;
const VERSION = /^[0-9a-z]{1,16}$/;
/** Printable ASCII without space: safe in the text protocol, in proxies and in every client. */
const SAFE_KEY = /^[\x21-\x7e]{1,64}$/;
const isUnsafeChar = (ch: string) => ch.charCodeAt(0) <= 0x20 || ch.charCodeAt(0) === 0x7f;
const HASHED_KEY_LENGTH = 64;

/** Throws a BccConfigError unless `prefix` leaves room for a version and a 64-character key. */
export function checkPrefix(prefix: string): void {
  if (typeof prefix !== 'string' || prefix.length === 0) {
    throw new BccConfigError(
      'prefix must be a non-empty string (it scopes the entries and the namespace key)',
    );
  }
  if ([...prefix].some(isUnsafeChar)) {
    throw new BccConfigError(
      `prefix must not contain spaces or control characters, got ${JSON.stringify(prefix)}`,
    );
  }
  const room = MAX_KEY_BYTES - MAX_VERSION_LENGTH - 1 - HASHED_KEY_LENGTH;
  if (Buffer.byteLength(prefix, 'utf8') > room) {
    throw new BccConfigError(
      `prefix is ${Buffer.byteLength(prefix, 'utf8')} bytes; memcached keys end at ${MAX_KEY_BYTES} bytes, so keep it under ${room + 1}`,
    );
  }
}

/** True when `value` is a namespace version this cache could have written. */
export function isVersion(value: string): boolean {
  return VERSION.test(value);
}

/** A fresh namespace version: time plus randomness, so two processes bumping at once differ. */
export function newVersion(): string {
  const random = Math.floor(Math.random() * 36 ** 6)
    .toString(36)
    .padStart(6, '0');
  return (Date.now().toString(36) + random).slice(-MAX_VERSION_LENGTH);
}

/**
 * The memcached key of an entry: `<prefix><version>/<key>`. bcc's keys are 64 hex characters;
 * a key from an overridden `getCacheKey` that is longer or unsafe is replaced by its SHA-256,
 * so no key ever exceeds 250 bytes.
 */
export function entryKey(prefix: string, version: string, bucketKey: string): string {
  const safe = SAFE_KEY.test(bucketKey)
    ? bucketKey
    : createHash('sha256').update(bucketKey, 'utf8').digest('hex');
  return `${prefix}${version}/${safe}`;
}

/** The key holding the current namespace version. Entry keys always have a `/` after the version, so never collide with it. */
export function namespaceKey(prefix: string): string {
  return `${prefix}ns`;
}
