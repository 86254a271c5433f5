import type { RejectReason } from './format.js';

/** Counters every cache keeps. Plain numbers, cheap enough to leave on. */
export interface CacheStats {
  hits: number;
  misses: number;
  /** Entries found but refused, by reason (bad CRC, wrong checksum, bad signature ...). */
  rejected: Partial<Record<RejectReason, number>>;
  /** Hits whose V8 code cache was made under another runtime and dropped. */
  v8Dropped: number;
  writes: number;
  writeFailures: number;
  bytesRead: number;
  bytesWritten: number;
  /** Backend errors of any operation. */
  errors: number;
}

export function emptyStats(): CacheStats {
  return {
    hits: 0,
    misses: 0,
    rejected: {},
    v8Dropped: 0,
    writes: 0,
    writeFailures: 0,
    bytesRead: 0,
    bytesWritten: 0,
    errors: 0,
  };
}
