// node index.mjs — an app whose whole cache configuration is one environment variable:
//
//   BCC_CACHE="memory:,file:,redis://cache:6379?prefix=app/,s3://my-bucket/bcc/?region=eu-west-1"
//   BCC_SECRET="…"   (signs every entry; anyone who can write a shared store cannot run code here)
//
// A list makes a TieredBytecodeCache, fastest first: a load tries memory, then the filesystem,
// then Redis, then S3; the first valid entry wins and is written back to the faster tiers, so the
// next process on this machine finds it on disk, and the next render in this process in memory.
import { createBytecodeCacheFromEnv, loadTemplate } from '@bcc/core';

// Without BCC_CACHE: memory and the private per-user directory (file: alone).
const cache = await createBytecodeCacheFromEnv({ fallback: 'memory:,file:' });

// A tiny template engine: `{{ name }}` placeholders compiled to a JavaScript function.
const environment = {
  fingerprint: 'tiny-engine@1',
  compile(source) {
    const parts = source.split(/\{\{\s*(\w+)\s*\}\}/);
    const body = parts
      .map((p, i) => (i % 2 === 0 ? JSON.stringify(p) : `String(ctx[${JSON.stringify(p)}])`))
      .join(' + ');
    return `(function () { return function render(ctx) { return ${body}; }; })()`;
  },
};

const template = await loadTemplate(cache, environment, {
  name: 'greeting.html',
  source: '<p>Hello, {{ name }}!</p>',
});
console.log(template.value({ name: 'Ada' }));
await template.persistCodeCache();

// Which tier served the entry (hitsByTier exists on a tiered cache), then a clean shutdown:
// close() waits for the write-backs to the faster tiers and closes the clients.
const tiers = cache.tiers?.map((t) => t.backendName) ?? [cache.backendName];
const servedBy = cache.hitsByTier ? tiers[cache.hitsByTier.findIndex((n) => n > 0)] : undefined;
console.log(`tiers: ${tiers.join(' > ')}`);
console.log(`loaded from: ${template.from}${servedBy ? ` (served by ${servedBy})` : ''}`);
await cache.close();
