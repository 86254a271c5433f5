import { EXIT } from '../errors.js';
import type { OpenedCache } from '../open-cache.js';
import { type Output, table } from '../output.js';
import { formatBytes } from '../units.js';

/** `bcc stats`: entries and bytes per store (per tier), from the stores' own listings. */
export async function stats(opened: OpenedCache, out: Output): Promise<number> {
  const rows: { store: string; entries: number | null; bytes: number | null }[] = [];
  for (const store of opened.stores) {
    if (!store.listEntries) {
      rows.push({ store: store.storeName, entries: null, bytes: null });
      continue;
    }
    let entries = 0;
    let bytes = 0;
    for await (const entry of store.listEntries()) {
      entries++;
      bytes += entry.size;
    }
    rows.push({ store: store.storeName, entries, bytes });
  }
  if (out.json) {
    out.data({ stores: rows });
    return EXIT.ok;
  }
  const shown = rows.map((row) => ({
    store: row.store,
    entries: row.entries === null ? 'cannot list' : String(row.entries),
    bytes: row.bytes === null ? '' : formatBytes(row.bytes),
  }));
  for (const line of table(shown, ['store', 'entries', 'bytes'], ['entries', 'bytes'])) out.line(line);
  return EXIT.ok;
}
