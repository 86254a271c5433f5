import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, sha256Hex } from '../src/digest.js';
import { loadWasmDigest, WASM_INPUT_LIMIT } from '../src/wasm-digest.js';
import { digestModuleBytes } from '../src/wasm-module.js';
import { DIGEST_WASM } from '../src/wasm-module-bytes.js';

const nativeSha = (input: string | Uint8Array) => createHash('sha256').update(input).digest('hex');
const wasm = loadWasmDigest();

/** Texts around SHA-256's block and padding boundaries, in 1-, 2-, 3- and 4-byte UTF-8. */
function boundaryTexts(): string[] {
  const texts: string[] = [];
  for (const unit of ['a', 'é', '€', '😀']) {
    for (let length = 0; length <= 200; length++) texts.push(unit.repeat(length));
  }
  texts.push('a\ud800b', '\udfff', '{% extends "layout.njk" %}\r\n\0\u2028');
  return texts;
}

describe('the WebAssembly digest', () => {
  it('is the module the builder in wasm-module.ts writes (else: pnpm --filter @bcc/core generate:wasm)', () => {
    expect(DIGEST_WASM).toBe(Buffer.from(digestModuleBytes()).toString('base64'));
  });

  it('runs here (WebAssembly is available to the tests)', () => {
    expect(wasm).not.toBeNull();
  });

  it('computes the SHA-256 and CRC32 that node:crypto and node:zlib compute', () => {
    let checked = 0;
    for (const text of boundaryTexts()) {
      expect(wasm!.sha256Hex(text), JSON.stringify(text)).toBe(nativeSha(text));
      expect(wasm!.crc32(text), JSON.stringify(text)).toBe(zlibCrc32(text));
      checked++;
    }
    for (let i = 0; i < 300; i++) {
      const bytes = randomBytes(i < 200 ? i : 1 + ((i * 7919) % 70_000));
      expect(wasm!.crc32(bytes)).toBe(zlibCrc32(bytes));
      const text = bytes.toString('latin1');
      expect(wasm!.sha256Hex(text)).toBe(nativeSha(text));
      checked++;
    }
    expect(checked).toBe(4 * 201 + 3 + 300);
  });

  it('grows its memory for a large input and stays right for small ones afterwards', () => {
    const large = `${'x'.repeat(WASM_INPUT_LIMIT / 3 - 10)}ü`;
    expect(wasm!.sha256Hex(large)).toBe(nativeSha(large));
    const bytes = randomBytes(WASM_INPUT_LIMIT);
    expect(wasm!.crc32(bytes)).toBe(zlibCrc32(bytes));
    expect(wasm!.sha256Hex('abc')).toBe(nativeSha('abc'));
    expect(wasm!.crc32('abc')).toBe(zlibCrc32('abc'));
  });
});

describe('sha256Hex and crc32', () => {
  it('give the native results on both sides of the WebAssembly size limit', () => {
    for (const size of [0, 1000, WASM_INPUT_LIMIT / 3, WASM_INPUT_LIMIT / 3 + 1, WASM_INPUT_LIMIT + 1]) {
      const text = 'q'.repeat(size);
      expect(sha256Hex(text)).toBe(nativeSha(text));
      const bytes = randomBytes(size);
      expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    }
  });

  // Fresh processes of the built package (run `pnpm build` first).
  const probe = (flags: string[], text: string) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [...flags, new URL('./fixtures/digest-probe.mjs', import.meta.url).pathname, text],
        {
          encoding: 'utf8',
        },
      ),
    ) as { sha256: string; crc32: number; wasm: boolean; crypto: boolean; zlib: boolean };

  it('load neither node:crypto nor node:zlib in a process where WebAssembly runs', () => {
    const text = 'a template: {{ name }} €';
    expect(probe([], text)).toEqual({
      sha256: nativeSha(text),
      crc32: zlibCrc32(Buffer.from(text)),
      wasm: true,
      crypto: false,
      zlib: false,
    });
  });

  it('fall back to node:crypto and node:zlib under --jitless (no WebAssembly)', () => {
    const text = 'a template: {{ name }} €';
    expect(probe(['--jitless'], text)).toEqual({
      sha256: nativeSha(text),
      crc32: zlibCrc32(Buffer.from(text)),
      wasm: false,
      crypto: true,
      zlib: true,
    });
  });
});
