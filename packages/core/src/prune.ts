import type { BytecodeCache, StoredEntry } from './cache.js';
import { BccConfigError, BccUnsupportedError } from './errors.js';
import { inspectFrame } from './format.js';

/** How much a store may keep: {@link pruneEntries} removes what is beyond. */
export interface PruneBounds {
  /** Entries older than this many milliseconds go. */
  maxAge?: number | undefined;
  /** After that, the oldest entries go until the rest fit in this many bytes. */
  maxSize?: number | undefined;
}

/** What {@link pruneEntries} did. */
export interface PruneReport {
  /** Entries looked at. */
  examined: number;
  /** Entries removed (or that would be, with `dryRun`). */
  removed: number;
  removedBytes: number;
  /** Bytes of the entries kept. */
  keptBytes: number;
}

/** Throws `BccConfigError` unless each bound given is a positive finite number. */
export function checkPruneBounds(bounds: PruneBounds, what = 'prune'): void {
  for (const name of ['maxAge', 'maxSize'] as const) {
    const value = bounds[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new BccConfigError(`${what}: ${name} must be a positive number, got ${String(value)}`);
    }
  }
}

/**
 * When an entry was written: the store's modification time, or else the creation time in its
 * header (a store such as Redis keeps none); an entry whose header cannot be read counts as
 * oldest, so it goes first.
 */
async function writtenAt(cache: BytecodeCache, entry: StoredEntry): Promise<number> {
  if (entry.modified) return entry.modified.getTime();
  const bytes = await cache.readEntry?.(entry.key);
  const inspected = bytes ? inspectFrame(bytes) : null;
  return inspected?.ok ? inspected.info.created.getTime() : 0;
}

/**
 * Keeps a store within bounds, oldest entries first: first everything older than `maxAge`,
 * then the oldest until the rest fit in `maxSize`. Only the cache's own entries are looked at
 * (`listEntries`); a store that cannot list them (memcached) throws `BccUnsupportedError`.
 * Removing an entry only ever costs a miss.
 *
 * ```ts
 * await pruneEntries(cache, { maxAge: 7 * 86_400_000, maxSize: 256 * 1024 * 1024 });
 * ```
 */
export async function pruneEntries(
  cache: BytecodeCache,
  bounds: PruneBounds,
  options: { now?: number; dryRun?: boolean } = {},
): Promise<PruneReport> {
  checkPruneBounds(bounds);
  if (!cache.listEntries || !cache.deleteEntry) {
    throw new BccUnsupportedError(`${cache.backendName} cannot list its entries, so it cannot be pruned`);
  }
  const now = options.now ?? Date.now();
  const entries: (StoredEntry & { at: number })[] = [];
  for await (const entry of cache.listEntries())
    entries.push({ ...entry, at: await writtenAt(cache, entry) });
  entries.sort((a, b) => a.at - b.at);
  let total = entries.reduce((sum, entry) => sum + entry.size, 0);
  const report: PruneReport = { examined: entries.length, removed: 0, removedBytes: 0, keptBytes: total };
  for (const entry of entries) {
    const tooOld = bounds.maxAge !== undefined && now - entry.at > bounds.maxAge;
    const tooBig = bounds.maxSize !== undefined && total > bounds.maxSize;
    if (!tooOld && !tooBig) continue;
    if (!options.dryRun) await cache.deleteEntry(entry.key);
    total -= entry.size;
    report.removed++;
    report.removedBytes += entry.size;
  }
  report.keptBytes = total;
  return report;
}
