import type { BucketCode, TemplateEnvironment } from '@bcc/core';

/** An environment whose templates compile to a function returning their source, tagged. */
export function testEnvironment(fingerprint = 'bcc-testkit'): TemplateEnvironment {
  return {
    fingerprint,
    compile: (source, name) => `(function () { return ${JSON.stringify(`${name}:${source}`)}; })`,
  };
}

/**
 * Deterministic code of about `bytes` bytes: JavaScript with non-ASCII text and a "V8" part that
 * holds every byte value, so binary-unsafe stores fail.
 */
export function makeCode(seed: string, bytes = 2000): BucketCode {
  const jsLength = Math.max(16, Math.floor(bytes / 2));
  const line = `/* ${seed} — ünïcødé ✓ 模板 */\n`;
  const head = `(function(){ return ${JSON.stringify(seed)}; })\n`;
  const js =
    head +
    line.repeat(Math.max(0, Math.ceil((jsLength - Buffer.byteLength(head)) / Buffer.byteLength(line))));
  const v8 = new Uint8Array(Math.max(256, bytes - jsLength));
  let x = 0;
  for (const ch of seed) x = (x * 31 + ch.charCodeAt(0)) >>> 0;
  for (let i = 0; i < v8.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    v8[i] = i < 256 ? i : x >>> 24;
  }
  return { js, v8 };
}
