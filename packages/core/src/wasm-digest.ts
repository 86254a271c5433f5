import { H_AT, H0, INPUT_AT } from './wasm-module.js';
import { DIGEST_WASM } from './wasm-module-bytes.js';

/**
 * SHA-256 and CRC32 through a small WebAssembly module (wasm-module.ts), so that a process that
 * loads a few templates imports neither `node:crypto` nor `node:zlib` (digest.ts decides which
 * implementation hashes what). Importing them was the largest fixed cost bcc had in a fresh
 * process: `node:crypto` 5.3 ms on Node 24 (3.2 on 22, 2.8 on 20; it pulls in Node's whole
 * streams stack), `node:zlib` 1.2 ms, where compiling and instantiating this module takes ~0.4 ms.
 * Hashing in JavaScript was measured before and lost (cold code is interpreted: see digest.ts);
 * WebAssembly runs compiled code from its first call.
 */

// The little of the WebAssembly API used here (the project's TypeScript lib has no DOM types).
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmExports {
  memory: WasmMemory;
  sha256(ptr: number, blocks: number): void;
  crc32(ptr: number, end: number, crc: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

/**
 * SHA-256 and CRC32 over one instance of the module. Not re-entrant (callers are synchronous). Its
 * memory grows to the largest input and is never given back: digest.ts bounds what it passes.
 */
export class WasmDigest {
  readonly #wasm: WasmExports;
  #bytes: Uint8Array;
  #words: DataView;
  readonly #encoder = new TextEncoder();
  static readonly #initialState = Uint32Array.from(H0);

  constructor(bytes: Uint8Array) {
    this.#wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as WasmExports;
    this.#bytes = new Uint8Array(this.#wasm.memory.buffer);
    this.#words = new DataView(this.#wasm.memory.buffer);
  }

  /** Room for `length` input bytes plus SHA-256 padding. */
  #reserve(length: number): void {
    const needed = INPUT_AT + length + 72;
    if (needed <= this.#bytes.length) return;
    this.#wasm.memory.grow(Math.ceil((needed - this.#bytes.length) / 65536));
    this.#bytes = new Uint8Array(this.#wasm.memory.buffer);
    this.#words = new DataView(this.#wasm.memory.buffer);
  }

  /** Copies `input` (a string as UTF-8) to INPUT_AT; returns its byte length. */
  #put(input: Uint8Array | string): number {
    if (typeof input !== 'string') {
      this.#reserve(input.length);
      this.#bytes.set(input, INPUT_AT);
      return input.length;
    }
    this.#reserve(input.length * 3);
    return this.#encoder.encodeInto(input, this.#bytes.subarray(INPUT_AT)).written;
  }

  sha256Hex(text: string): string {
    const length = this.#put(text);
    const blocks = Math.floor((length + 8) / 64) + 1;
    const end = INPUT_AT + blocks * 64;
    this.#bytes.fill(0, INPUT_AT + length, end);
    this.#bytes[INPUT_AT + length] = 0x80;
    // the length in bits, big-endian in the last 8 bytes (inputs here stay far below 2^32 bits)
    this.#words.setUint32(end - 8, Math.floor(length / 0x20000000), false);
    this.#words.setUint32(end - 4, (length * 8) >>> 0, false);
    for (let j = 0; j < 8; j++)
      this.#words.setUint32(H_AT + j * 4, WasmDigest.#initialState[j] as number, true);
    this.#wasm.sha256(INPUT_AT, blocks);
    let hex = '';
    for (let j = 0; j < 8; j++)
      hex += this.#words
        .getUint32(H_AT + j * 4, true)
        .toString(16)
        .padStart(8, '0');
    return hex;
  }

  crc32(input: Uint8Array | string): number {
    const length = this.#put(input);
    return this.#wasm.crc32(INPUT_AT, INPUT_AT + length, 0) >>> 0;
  }
}

/** The digest module compiled once, or null where WebAssembly cannot run (`--jitless`, or code generation disallowed). */
export function loadWasmDigest(): WasmDigest | null {
  try {
    if (typeof WebAssembly !== 'object') return null;
    return new WasmDigest(Buffer.from(DIGEST_WASM, 'base64'));
  } catch {
    return null;
  }
}
