import { parseArgs } from 'node:util';

/**
 * Parses `--name value` options of the scripts; numbers accept `1e6` and `1_000_000`.
 * @param {Record<string, { default: string | boolean, type?: 'string' | 'boolean' }>} spec
 */
export function scriptArgs(spec) {
  // `pnpm fuzz -- --count 1e5` hands the script a literal `--` first; skip it.
  const args = process.argv.slice(2);
  if (args[0] === '--') args.shift();
  const { values } = parseArgs({
    args,
    options: Object.fromEntries(
      Object.entries(spec).map(([name, s]) => [name, { type: s.type ?? 'string', default: s.default }]),
    ),
    allowPositionals: false,
  });
  return values;
}

/** @param {string} text */
export function toNumber(text) {
  const n = Number(String(text).replaceAll('_', ''));
  if (!Number.isFinite(n)) throw new Error(`not a number: ${text}`);
  return n;
}
