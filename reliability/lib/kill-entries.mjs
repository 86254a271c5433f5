/**
 * Entries of the kill test: large enough that a write takes a while (so SIGKILL lands inside
 * one), and self-describing, so a reader can check every byte it got without asking the writer.
 */
import { createHash } from 'node:crypto';
import { MemoryBytecodeCache } from '@bcc/core';

export const KILL_ENVIRONMENT = { fingerprint: 'bcc-reliability/kill' };
export const KILL_KEYS = 4;

const derive = new MemoryBytecodeCache();
export const killName = (k) => `kill-${k}.html`;
export const killSource = (k) => `source of kill template ${k}`;
export const killKey = (k) => derive.getCacheKey(killName(k), null, KILL_ENVIRONMENT.fingerprint);
export const killChecksum = (k) => derive.getSourceChecksum(killSource(k));

const sha = (data) => createHash('sha256').update(data).digest('hex');

/** The JavaScript and V8 bytes writer `w` stores as version `v` of key `k` (64 KB – 1.5 MB). */
export function killCode(k, v, w) {
  const size = 64 * 1024 + ((k * 7919 + v * 104729 + w * 1299709) % (1408 * 1024));
  const line = `out += '<li>k${k} v${v} w${w}</li>';\n`;
  const body = line.repeat(Math.ceil(size / line.length)).slice(0, size);
  const v8 = Buffer.alloc(4096 + (v % 64) * 512, (k * 31 + v * 17 + w) & 0xff);
  return { js: `/*${sha(body)}:${sha(v8)}*/${body}`, v8 };
}

/** True when decoded code is exactly some writer's version of it (its header names the hashes). */
export function killCodeIntact(js, v8) {
  const match = /^\/\*([0-9a-f]{64}):([0-9a-f]{64})\*\//.exec(js);
  if (!match) return false;
  return sha(js.slice(match[0].length)) === match[1] && v8 !== undefined && sha(v8) === match[2];
}
