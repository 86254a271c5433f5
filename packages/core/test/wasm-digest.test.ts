import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { WASM_BUDGET } from '../src/digest.js';
import { loadWasmDigest } from '../src/wasm-digest.js';
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
    const large = `${'x'.repeat(300_000)}ü`;
    expect(wasm!.sha256Hex(large)).toBe(nativeSha(large));
    const bytes = randomBytes(1024 * 1024);
    expect(wasm!.crc32(bytes)).toBe(zlibCrc32(bytes));
    expect(wasm!.sha256Hex('abc')).toBe(nativeSha('abc'));
    expect(wasm!.crc32('abc')).toBe(zlibCrc32('abc'));
  });
});

// Which implementation hashes is decided per process (digest.ts), so it is checked in fresh
// processes of the built package (run `pnpm build` first): vitest itself has node:crypto loaded.
describe('sha256Hex and crc32 in a fresh process', () => {
  type Probe = {
    digests: Array<{ sha256: string; crc32: number }>;
    counts: { wasm: number; native: number };
    crypto: boolean;
    zlib: boolean;
  };
  type Text = { text: string } | { char: string; length: number };
  const probe = (config: { texts: Text[]; preload?: string }, flags: string[] = []) =>
    JSON.parse(
      execFileSync(
        process.execPath,
        [...flags, new URL('./fixtures/digest-probe.mjs', import.meta.url).pathname, JSON.stringify(config)],
        { encoding: 'utf8' },
      ),
    ) as Probe;
  const expected = (texts: Text[]) =>
    texts.map((t) => {
      const text = 'text' in t ? t.text : t.char.repeat(t.length);
      return { sha256: nativeSha(text), crc32: zlibCrc32(Buffer.from(text)) };
    });
  const small: Text[] = [{ text: 'a template: {{ name }} €' }, { text: '' }, { char: 'é', length: 5000 }];

  it('hash a few templates in WebAssembly, loading neither node:crypto nor node:zlib', () => {
    expect(probe({ texts: small })).toEqual({
      digests: expected(small),
      counts: { wasm: 6, native: 0 },
      crypto: false,
      zlib: false,
    });
  });

  it('switch to node:crypto and node:zlib once more than the budget was hashed, with the same results', () => {
    // 10 KiB of text each: the first SHA-256 fits the 16 KiB budget, the second does not; all
    // three CRC32s (of up to 20 KiB of UTF-8 each) fit 512 KiB.
    const texts: Text[] = [
      { char: 'a', length: 10 * 1024 },
      { char: 'ü', length: 10 * 1024 },
      { char: 'b', length: 10 },
    ];
    expect(WASM_BUDGET).toEqual({ sha256: 16 * 1024, crc32: 512 * 1024 });
    const result = probe({ texts });
    expect(result.digests).toEqual(expected(texts));
    // wasm: SHA-256 of the first text and three CRC32s; native: the other two SHA-256s
    expect(result.counts).toEqual({ wasm: 4, native: 2 });
    expect(result).toMatchObject({ crypto: true, zlib: false });
    const big: Text[] = [{ char: 'z', length: 600 * 1024 }];
    expect(probe({ texts: big })).toEqual({
      digests: expected(big),
      counts: { wasm: 0, native: 2 },
      crypto: true,
      zlib: true,
    });
  });

  it('use node:crypto and node:zlib from the start where the app already loaded them', () => {
    expect(probe({ texts: small, preload: 'crypto' })).toMatchObject({
      digests: expected(small),
      counts: { wasm: 3, native: 3 },
      zlib: false,
    });
    expect(probe({ texts: small, preload: 'zlib' })).toMatchObject({
      digests: expected(small),
      counts: { wasm: 3, native: 3 },
      crypto: false,
    });
  });

  it('fall back to node:crypto and node:zlib under --jitless (no WebAssembly)', () => {
    expect(probe({ texts: small }, ['--jitless'])).toEqual({
      digests: expected(small),
      counts: { wasm: 0, native: 6 },
      crypto: true,
      zlib: true,
    });
  });
});
