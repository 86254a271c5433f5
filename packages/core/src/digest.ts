import { loadWasmDigest, type WasmDigest } from './wasm-digest.js';

/**
 * SHA-256 and CRC32 for keys, checksums and frames; HMAC for signed caches.
 *
 * Importing `node:crypto` costs a fresh process ~5.3 ms on Node 24 (3.2 on Node 22, 2.8 on
 * Node 20) and `node:zlib` ~1.2 ms, while a process that renders one small page hashes a few
 * kilobytes. So each digest is chosen the way one decides between renting and buying:
 * - the app already loaded the native module (Express and Fastify load `node:crypto`, Express
 *   `node:zlib` too): use it, it costs nothing more;
 * - otherwise a small WebAssembly module (wasm-digest.ts, ~0.4 ms to compile and start) hashes
 *   the first inputs, up to a budget: 16 KiB of SHA-256 input (a page, its layout and macros;
 *   ~0.4 ms at the speed of V8's baseline compiler, 24 ns a byte) and 512 KiB of CRC32 input
 *   (~0.5 ms, against 1.2 ms for importing `node:zlib`). A larger budget bought nothing: an app
 *   that hashes more than a few templates' sources imports `node:crypto` in the end anyway;
 * - past the budget, or for one input larger than what is left of it, the native module is
 *   loaded and used from then on.
 * Where WebAssembly cannot run (`--jitless`) and for HMAC the native modules are used, loaded on
 * first use — never when `@bcc/core` is imported. The results are the same bytes either way
 * (test/wasm-digest.test.ts checks one against the other).
 *
 * Measured and rejected (2026-11-29): hashing in JavaScript. Cold JavaScript (not yet optimised by
 * V8) hashed 865 bytes in 0.75 ms and checked a 20 KB frame in 1–2.7 ms.
 */

type NodeCrypto = typeof import('node:crypto');
type NodeZlib = typeof import('node:zlib');

/** Input (characters of text, or bytes) the WebAssembly digest takes before the native module is worth importing. */
export const WASM_BUDGET = { sha256: 16 * 1024, crc32: 512 * 1024 };

let nodeCrypto: NodeCrypto | null = null;
let nodeZlib: NodeZlib | null = null;
let wasmDigest: WasmDigest | null | undefined;
const budget = { ...WASM_BUDGET };
/** How many inputs each implementation hashed (for tests and debugging). */
export const digestCounts = { wasm: 0, native: 0 };

/** Whether the process has loaded Node's built-in module `name` (by anyone: the app, a framework). */
function loadedByProcess(name: 'crypto' | 'zlib'): boolean {
  const list = (process as { moduleLoadList?: readonly string[] }).moduleLoadList;
  return Array.isArray(list) && list.includes(`NativeModule ${name}`);
}

/** `node:crypto`, loaded on first use. */
export function cryptoModule(): NodeCrypto {
  nodeCrypto ??= process.getBuiltinModule('node:crypto') as NodeCrypto;
  return nodeCrypto;
}

function zlibModule(): NodeZlib {
  nodeZlib ??= process.getBuiltinModule('node:zlib') as NodeZlib;
  return nodeZlib;
}

/**
 * `run` over the WebAssembly digest, for an input of `size` characters or bytes of `kind` (a
 * string's UTF-8 may be three times that: memory stays under 3 × the budget); `undefined` when
 * the native module is to be used instead.
 */
function withWasm<T>(
  kind: 'sha256' | 'crc32',
  size: number,
  native: object | null,
  run: (wasm: WasmDigest) => T,
): T | undefined {
  if (native !== null || size > budget[kind]) return undefined;
  if (loadedByProcess(kind === 'sha256' ? 'crypto' : 'zlib')) {
    budget[kind] = 0;
    return undefined;
  }
  if (wasmDigest === undefined) wasmDigest = loadWasmDigest();
  if (wasmDigest === null) return undefined;
  budget[kind] -= size;
  try {
    const result = run(wasmDigest);
    digestCounts.wasm++;
    return result;
  } catch {
    return undefined; // out of memory growing the module's memory: Node's own instead
  }
}

/** Hex SHA-256 of the UTF-8 encoding of `text`. */
export function sha256Hex(text: string): string {
  const hex = withWasm('sha256', text.length, nodeCrypto, (wasm) => wasm.sha256Hex(text));
  if (hex !== undefined) return hex;
  digestCounts.native++;
  return cryptoModule().hash('sha256', text, 'hex');
}

/** CRC32 (IEEE, as `zlib.crc32`) of `bytes` (a string as UTF-8). */
export function crc32(bytes: Uint8Array | string): number {
  const crc = withWasm('crc32', bytes.length, nodeZlib, (wasm) => wasm.crc32(bytes));
  if (crc !== undefined) return crc;
  digestCounts.native++;
  return zlibModule().crc32(bytes);
}
