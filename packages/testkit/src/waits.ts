import type { BytecodeCache, TemplateEnvironment } from '@bcc/core';
import { makeCode, testEnvironment } from './fixtures.js';

/**
 * Resolves or rejects as `promise` does, but rejects once it has been pending for `ms`: a hang
 * detector for calls against a dead or silent server, not a speed check.
 */
export async function settles<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, hung]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Writes and reads `name` through `cache` until a hit comes back, for at most `within` ms, and
 * returns whether one did. For the moments after a server comes back: a client reconnects on
 * its own schedule, and with `ignoreErrors: false` the calls reject until it has.
 */
export async function hitsResume(
  cache: BytecodeCache,
  name: string,
  {
    within = 10_000,
    environment = testEnvironment('bcc-faults'),
  }: { within?: number; environment?: TemplateEnvironment } = {},
): Promise<boolean> {
  const deadline = Date.now() + within;
  while (Date.now() < deadline) {
    const bucket = cache.createBucket(environment, name, null, 'src');
    bucket.code = makeCode(name);
    const hit = await cache
      .setBucket(bucket)
      .then(() => cache.getBucket(environment, name, null, 'src'))
      .then(
        (b) => b.code !== null,
        () => false,
      );
    if (hit) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
