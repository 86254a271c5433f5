import { loadWasmDigest, WASM_INPUT_LIMIT, type WasmDigest } from './wasm-digest.js';

/**
 * SHA-256 and CRC32 for keys, checksums and frames; HMAC for signed caches.
 *
 * SHA-256 and CRC32 run in a small WebAssembly module (wasm-digest.ts) first: importing
 * `node:crypto` costs a fresh process ~5 ms on Node 24 (2.8 on Node 20) and `node:zlib` ~1 ms,
 * and a process that loads a few templates hashes only kilobytes. Where WebAssembly cannot run
 * (`--jitless`, code generation disallowed), for inputs over 1 MiB, and for HMAC, the native
 * modules are loaded on first use — never when `@bcc/core` is imported. The results are the same
 * bytes either way (test/wasm-digest.test.ts checks one against the other).
 *
 * Measured and rejected (2026-11-29): hashing in JavaScript to avoid the import. Cold JavaScript
 * (not yet optimised by V8) hashed 865 bytes in 0.75 ms and checked a 20 KB frame in 1–2.7 ms.
 */

type NodeCrypto = typeof import('node:crypto');
type NodeZlib = typeof import('node:zlib');

let nodeCrypto: NodeCrypto | null = null;
let nodeZlib: NodeZlib | null = null;
let wasmDigest: WasmDigest | null | undefined;

/** `node:crypto`, loaded on first use. */
export function cryptoModule(): NodeCrypto {
  nodeCrypto ??= process.getBuiltinModule('node:crypto') as NodeCrypto;
  return nodeCrypto;
}

function zlibModule(): NodeZlib {
  nodeZlib ??= process.getBuiltinModule('node:zlib') as NodeZlib;
  return nodeZlib;
}

/** The WebAssembly digest for an input of (at most) `size` bytes, or null to use Node's own. */
function wasmFor(size: number): WasmDigest | null {
  if (size > WASM_INPUT_LIMIT) return null;
  if (wasmDigest === undefined) wasmDigest = loadWasmDigest();
  return wasmDigest;
}

/** Hex SHA-256 of the UTF-8 encoding of `text`. */
export function sha256Hex(text: string): string {
  const wasm = wasmFor(text.length * 3);
  if (wasm) {
    try {
      return wasm.sha256Hex(text);
    } catch {
      // out of memory growing the module's memory: Node's own below
    }
  }
  return cryptoModule().hash('sha256', text, 'hex');
}

/** CRC32 (IEEE, as `zlib.crc32`) of `bytes` (a string as UTF-8). */
export function crc32(bytes: Uint8Array | string): number {
  const wasm = wasmFor(typeof bytes === 'string' ? bytes.length * 3 : bytes.length);
  if (wasm) {
    try {
      return wasm.crc32(bytes);
    } catch {
      // as above
    }
  }
  return zlibModule().crc32(bytes);
}
