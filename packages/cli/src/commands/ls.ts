import { type ReadEntry, readEntries } from '../entries.js';
import { EXIT, UsageError } from '../errors.js';
import type { OpenedCache } from '../open-cache.js';
import { type Output, table } from '../output.js';
import { formatAge, formatBytes } from '../units.js';

export interface LsOptions {
  sort: string;
  engine?: string;
  name?: string;
  state?: string;
}

const SORTS = ['name', 'size', 'age', 'engine'] as const;

/** When an entry was written: the store's time, else the time in its header. */
const writtenAt = (entry: ReadEntry) => entry.modified?.getTime() ?? entry.info?.created.getTime() ?? 0;

/** `bcc ls`: one row per entry, from every store that can list (each tier of a tiered cache). */
export async function ls(opened: OpenedCache, options: LsOptions, out: Output): Promise<number> {
  if (!(SORTS as readonly string[]).includes(options.sort)) {
    throw new UsageError(`--sort takes one of ${SORTS.join(', ')}, got ${JSON.stringify(options.sort)}`);
  }
  const now = Date.now();
  const rows: ReadEntry[] = [];
  for (const store of opened.stores) {
    for await (const entry of readEntries(store, opened.secrets)) {
      if (options.engine && !entry.info?.engine.startsWith(options.engine)) continue;
      if (options.name && !entry.info?.name.includes(options.name)) continue;
      if (options.state && entry.state !== options.state) continue;
      rows.push(entry);
    }
  }
  const by: Record<(typeof SORTS)[number], (a: ReadEntry, b: ReadEntry) => number> = {
    name: (a, b) => (a.info?.name ?? '').localeCompare(b.info?.name ?? ''),
    size: (a, b) => b.size - a.size,
    age: (a, b) => writtenAt(a) - writtenAt(b),
    engine: (a, b) => (a.info?.engine ?? '').localeCompare(b.info?.engine ?? ''),
  };
  rows.sort(by[options.sort as (typeof SORTS)[number]]);
  if (out.json) {
    out.data(
      rows.map((entry) => ({
        store: entry.store.storeName,
        key: entry.key,
        name: entry.info?.name ?? null,
        engine: entry.info?.engine ?? null,
        size: entry.size,
        jsBytes: entry.info?.jsBytes ?? null,
        v8Bytes: entry.info?.v8Bytes ?? null,
        runtime: entry.info?.runtime ?? null,
        signed: entry.info?.signed ?? null,
        created: entry.info?.created.toISOString() ?? null,
        modified: entry.modified?.toISOString() ?? null,
        state: entry.state,
        dependencies: entry.info?.dependencies.map((d) => d.name) ?? [],
      })),
    );
    return EXIT.ok;
  }
  const shown = rows.map((entry) => ({
    key: entry.key.slice(0, 12),
    name: entry.info?.name || (entry.info ? '(no name)' : `(${entry.state}: ${entry.reason})`),
    engine: entry.info?.engine ?? '',
    size: formatBytes(entry.size),
    js: entry.info ? formatBytes(entry.info.jsBytes) : '',
    v8: entry.info ? formatBytes(entry.info.v8Bytes) : '',
    runtime: entry.info ? (entry.info.sameRuntime ? 'this' : entry.info.runtime) : '',
    signed: entry.info ? (entry.info.signed ? 'yes' : 'no') : '',
    age: formatAge(now - writtenAt(entry)),
    state: entry.state === 'valid' ? out.style('green', 'valid') : out.style('yellow', entry.state),
  }));
  for (const line of table(
    shown,
    ['key', 'name', 'engine', 'size', 'js', 'v8', 'runtime', 'signed', 'age', 'state'],
    ['size', 'js', 'v8', 'age'],
  ))
    out.line(line);
  const total = rows.reduce((sum, entry) => sum + entry.size, 0);
  out.line(out.style('dim', `${rows.length} entries, ${formatBytes(total)}`));
  return EXIT.ok;
}
