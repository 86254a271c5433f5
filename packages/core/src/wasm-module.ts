/**
 * The WebAssembly module behind `WasmDigest` (wasm-digest.ts), written as bytes by a few lines of
 * encoder so that what runs is what a reader reads: SHA-256 (FIPS 180-4) and CRC32 (IEEE, as
 * `zlib.crc32`). Not loaded at run time: `wasm-module-bytes.ts` holds its output (building it in
 * a cold process took 1.4 ms, compiling the bytes 0.2 ms), and a test fails when the two differ —
 * `pnpm --filter @bcc/core generate:wasm` writes it again.
 *
 * Memory layout (one 64 KiB page to start; the caller grows it when an input needs it):
 *   0..255      SHA-256 round constants K[0..63]       (data segment)
 *   256..511    message schedule W[0..63]
 *   512..543    hash state H[0..7], set by the caller before each hash
 *   1024..5119  CRC32 tables T0..T3 (IEEE, reflected)  (computed by the start function)
 *   8192..      the input
 */

// biome-ignore-all format: the WebAssembly code below is laid out one instruction group per line, which the formatter would unfold into one number per line

const K = [
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];
/** SHA-256's initial hash state. */
export const H0 = [
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

const W_AT = 256;
/** Where the hash state is read and written. */
export const H_AT = 512;
const CRC_TABLE_AT = 1024;
/** Where inputs are copied to. */
export const INPUT_AT = 8192;

// --- a minimal encoder: only what the two functions below use ---------------------------------

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

type Code = number | Code[];
const flat = (code: Code[]): number[] => code.flat(Number.POSITIVE_INFINITY as 1) as number[];
const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (text: string): number[] => [...uleb(text.length), ...[...text].map((c) => c.charCodeAt(0))];

const I32 = 0x7f;
const get = (i: number): Code => [0x20, ...uleb(i)];
const set = (i: number): Code => [0x21, ...uleb(i)];
const tee = (i: number): Code => [0x22, ...uleb(i)];
const i32 = (n: number): Code => [0x41, ...sleb(n)];
const load = (offset = 0): Code => [0x28, 2, ...uleb(offset)];
const load8 = (offset = 0): Code => [0x2d, 0, ...uleb(offset)];
const store = (offset = 0): Code => [0x36, 2, ...uleb(offset)];
const [eqz, ne, ltU, add, sub, and, or, xor, shl, shrU, rotl, rotr] = [
  0x45, 0x47, 0x49, 0x6a, 0x6b, 0x71, 0x72, 0x73, 0x74, 0x76, 0x77, 0x78,
];
/** `loop` inside `block`: `br 1` leaves, `br 0` goes round again. */
const loop = (...body: Code[]): Code => [0x02, 0x40, 0x03, 0x40, ...body, 0x0b, 0x0b];
const brIf = (depth: number): Code => [0x0d, ...uleb(depth)];
const br = (depth: number): Code => [0x0c, ...uleb(depth)];
const ifThenElse = (then: Code[], otherwise: Code[]): Code => [0x04, I32, ...then, 0x05, ...otherwise, 0x0b];

// --- sha256(ptr, blocks): hashes `blocks` padded 64-byte blocks at ptr into H ------------------
// V8 first runs new WebAssembly from its baseline compiler (Liftoff) and optimises hot functions
// in the background, so the baseline speed is what a fresh process sees. Measured on Node 24 in
// blocks per ms, baseline / optimised: one round per loop turn 540 / 4,600; all 64 unrolled 385
// (register pressure); eight per turn with the working variables renamed, as here, 640 / 4,300.

function sha256Body(): number[] {
  // params: 0 ptr, 1 blocks; locals: 2..9 the working variables, 10 t1, 11 x, 12 i (byte offset)
  const [ptr, blocks, t1, x, i] = [0, 1, 10, 11, 12];
  const vars = [2, 3, 4, 5, 6, 7, 8, 9];
  const big = (): Code => [
    // big-endian word: (rotl(x, 8) & 0x00ff00ff) | (rotr(x, 8) & 0xff00ff00)
    tee(x), i32(8), rotl, i32(0x00ff00ff), and, get(x), i32(8), rotr, i32(0xff00ff00 | 0), and, or,
  ];
  const sigma = (v: Code, r1: number, r2: number, shiftOrRot: Code): Code => [
    v, tee(x), i32(r1), rotr, get(x), i32(r2), rotr, xor, get(x), shiftOrRot, xor,
  ];
  const w = (back: number): Code => [get(i), load(W_AT - back * 4)];
  // eight rounds per turn of the loop, the working variables renamed instead of moved
  const rounds: Code[] = [];
  for (let r = 0; r < 8; r++) {
    const [a, b, c, d, e, f, g, h] = vars.map((_, j) => vars[(j - r + 8) % 8] as number) as [
      number, number, number, number, number, number, number, number,
    ];
    rounds.push(
      // t1 = h + Σ1(e) + ch(e, f, g) + K[i] + W[i]
      get(h),
      sigma(get(e), 6, 11, [i32(25), rotr]), add,
      get(g), get(e), get(f), get(g), xor, and, xor, add,
      get(i), load(r * 4), add,
      get(i), load(W_AT + r * 4), add,
      set(t1),
      get(d), get(t1), add, set(d),
      // h becomes the next a: t1 + Σ0(a) + maj(a, b, c)
      get(t1),
      sigma(get(a), 2, 13, [i32(22), rotr]), add,
      get(a), get(b), and, get(c), get(a), get(b), or, and, or, add,
      set(h),
    );
  }
  return flat([
    loop(
      get(blocks), eqz, brIf(1),
      // W[0..15] from the block, big-endian
      i32(0), set(i),
      loop(
        get(i), get(ptr), get(i), add, load(0), big(), store(W_AT),
        get(i), i32(4), add, tee(i), i32(64), ltU, brIf(0),
      ),
      // W[16..63]
      loop(
        get(i),
        w(16),
        sigma(w(15), 7, 18, [i32(3), shrU]), add,
        w(7), add,
        sigma(w(2), 17, 19, [i32(10), shrU]), add,
        store(W_AT),
        get(i), i32(4), add, tee(i), i32(256), ltU, brIf(0),
      ),
      vars.map((local, j) => [i32(0), load(H_AT + j * 4), set(local)]),
      i32(0), set(i),
      loop(rounds, get(i), i32(32), add, tee(i), i32(256), ltU, brIf(0)),
      vars.map((local, j) => [i32(0), i32(0), load(H_AT + j * 4), get(local), add, store(H_AT + j * 4)]),
      get(ptr), i32(64), add, set(ptr),
      get(blocks), i32(1), sub, set(blocks),
      br(0),
    ),
  ]);
}

// --- crc32(ptr, end, crc) -> crc, and the tables it reads --------------------------------------
// Slicing by 4 (four tables, a word per step), then byte by byte for the tail.

function crc32Body(): number[] {
  // params: 0 ptr, 1 end, 2 crc
  const [ptr, end, crc] = [0, 1, 2];
  const table = (k: number, shift: number): Code => [
    get(crc), ...(shift ? [i32(shift), shrU] : []), i32(0xff), and, i32(2), shl, load(CRC_TABLE_AT + k * 1024),
  ];
  return flat([
    get(crc), i32(-1), xor, set(crc),
    loop(
      get(end), get(ptr), sub, i32(4), ltU, brIf(1),
      get(crc), get(ptr), load(0), xor, set(crc),
      table(3, 0), table(2, 8), xor, table(1, 16), xor, table(0, 24), xor, set(crc),
      get(ptr), i32(4), add, set(ptr),
      br(0),
    ),
    loop(
      get(ptr), get(end), ltU, eqz, brIf(1),
      // crc = T0[(crc ^ byte) & 0xff] ^ (crc >>> 8)
      get(crc), get(ptr), load8(0), xor, i32(0xff), and, i32(2), shl, load(CRC_TABLE_AT),
      get(crc), i32(8), shrU, xor, set(crc),
      get(ptr), i32(1), add, set(ptr),
      br(0),
    ),
    get(crc), i32(-1), xor,
  ]);
}

function crcTableBody(): number[] {
  // locals: 0 n (a byte offset: 4 × the table index), 1 c, 2 k
  const [n, c, k] = [0, 1, 2];
  return flat([
    // T0: the byte-wise table
    loop(
      get(n), i32(2), shrU, set(c), i32(8), set(k),
      loop(
        get(c), i32(1), and,
        ifThenElse([get(c), i32(1), shrU, i32(0xedb88320 | 0), xor], [get(c), i32(1), shrU]),
        set(c),
        get(k), i32(1), sub, tee(k), brIf(0),
      ),
      get(n), get(c), store(CRC_TABLE_AT),
      get(n), i32(4), add, tee(n), i32(1024), ne, brIf(0),
    ),
    // T1..T3: Tk[i] = (Tk-1[i] >>> 8) ^ T0[Tk-1[i] & 0xff]
    i32(1024), set(n),
    loop(
      get(n), load(CRC_TABLE_AT - 1024), set(c),
      get(n),
      get(c), i32(8), shrU, get(c), i32(0xff), and, i32(2), shl, load(CRC_TABLE_AT), xor,
      store(CRC_TABLE_AT),
      get(n), i32(4), add, tee(n), i32(4096), ne, brIf(0),
    ),
  ]);
}

/** The module's bytes (exports `sha256(ptr, blocks)`, `crc32(ptr, end, crc)`, `memory`). */
export function digestModuleBytes(): Uint8Array {
  const fn = (locals: Array<[number, number]>, body: number[]): number[] => {
    const code = [...vec(locals.map(([count, type]) => [...uleb(count), type])), ...body, 0x0b];
    return [...uleb(code.length), ...code];
  };
  const constants = new Uint8Array(256);
  const view = new DataView(constants.buffer);
  for (const [j, k] of K.entries()) view.setUint32(j * 4, k, true);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    // types: 0 (i32 i32) -> (), 1 (i32 i32 i32) -> i32, 2 () -> ()
    ...section(1, vec([
      [0x60, 2, I32, I32, 0],
      [0x60, 3, I32, I32, I32, 1, I32],
      [0x60, 0, 0],
    ])),
    // functions: sha256, crc32, crcTable
    ...section(3, vec([[0], [1], [2]])),
    // memory 0: one page to start
    ...section(5, vec([[0, 1]])),
    ...section(7, vec([
      [...name('sha256'), 0, 0],
      [...name('crc32'), 0, 1],
      [...name('memory'), 2, 0],
    ])),
    // start: fill the CRC table
    ...section(8, uleb(2)),
    ...section(10, vec([
      fn([[11, I32]], sha256Body()),
      fn([], crc32Body()),
      fn([[3, I32]], crcTableBody()),
    ])),
    ...section(11, vec([
      [0, ...flat([i32(0)]), 0x0b, ...uleb(constants.length), ...constants],
    ])),
  ]);
}

