/**
 * SHA-256, CRC32 and HMAC from `node:crypto` and `node:zlib`, loaded on first use rather than
 * when `@bcc/core` is imported: importing them costs a fresh process ~5 ms and ~1 ms on Node 24
 * (2.6 and 0.5 on Node 20), which an app that imports bcc without loading templates through it
 * (a disabled cache, a CLI, a signed cache's first use) should not pay up front.
 *
 * Measured and rejected (2026-11-29): hashing small inputs in JavaScript to avoid the import.
 * Cold JavaScript (not yet optimised by V8) hashed 865 bytes in 0.75 ms and checked a 20 KB
 * frame in 1–2.7 ms, so once the environment fingerprint and the entry frames are counted it
 * costs more than importing the native modules.
 */

type NodeCrypto = typeof import('node:crypto');
type NodeZlib = typeof import('node:zlib');

let nodeCrypto: NodeCrypto | null = null;
let nodeZlib: NodeZlib | null = null;

/** `node:crypto`, loaded on first use. */
export function cryptoModule(): NodeCrypto {
  nodeCrypto ??= process.getBuiltinModule('node:crypto') as NodeCrypto;
  return nodeCrypto;
}

function zlibModule(): NodeZlib {
  nodeZlib ??= process.getBuiltinModule('node:zlib') as NodeZlib;
  return nodeZlib;
}

/** Hex SHA-256 of the UTF-8 encoding of `text`. */
export function sha256Hex(text: string): string {
  return cryptoModule().hash('sha256', text, 'hex');
}

/** CRC32 (IEEE, as `zlib.crc32`) of `bytes`. */
export function crc32(bytes: Uint8Array | string): number {
  return zlibModule().crc32(bytes);
}
