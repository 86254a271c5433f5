import {
  type BytecodeCache,
  type FrameInfo,
  inspectFrame,
  type RejectReason,
  type StoredEntry,
} from '@bcc/core';
import { UsageError } from './errors.js';

/** What a stored entry is worth here, from the bytes alone (see {@link classify}). */
export type EntryState =
  /** Sound, signed if a secret is set, made by a process like this one. */
  | 'valid'
  /** Sound, but its V8 cache is from another Node/V8: the JavaScript is used, the V8 part remade. */
  | 'other-runtime'
  /** Written by another format version (an older or newer bcc): a miss, rewritten on use. */
  | 'old-format'
  /** Bytes that are not a whole entry: truncated, bit rot, a torn write. */
  | 'corrupt'
  /** Written for another key: copied or written under the wrong name. */
  | 'foreign-key'
  /** A secret is set and the entry has no signature. */
  | 'unsigned'
  /** A secret is set and the signature does not verify. */
  | 'bad-signature';

/** The states a load refuses (and `verify --delete` removes). */
export const BAD_STATES: readonly EntryState[] = [
  'old-format',
  'corrupt',
  'foreign-key',
  'unsigned',
  'bad-signature',
];

/** One entry as read from a store. */
export interface ReadEntry extends StoredEntry {
  readonly store: BytecodeCache;
  readonly state: EntryState;
  /** Why a load would refuse it, when it would. */
  readonly reason?: RejectReason;
  /** The header, when the frame could be read. */
  readonly info?: FrameInfo;
  /** The format version byte of an entry of another version. */
  readonly version?: number;
}

/** Classifies an entry's bytes, checking the key and, with secrets, the signature. */
export function classify(
  bytes: Uint8Array,
  key: string,
  secrets: readonly Uint8Array[],
): Omit<ReadEntry, 'store' | keyof StoredEntry> {
  const inspected = inspectFrame(bytes, { key, secrets });
  if (!inspected.ok) {
    const state: EntryState =
      inspected.reason === 'version' && inspected.version !== undefined ? 'old-format' : 'corrupt';
    return inspected.version === undefined
      ? { state, reason: inspected.reason }
      : { state, reason: inspected.reason, version: inspected.version };
  }
  const { info, reason } = inspected;
  if (reason === 'key') return { state: 'foreign-key', reason, info };
  if (reason === 'unsigned') return { state: 'unsigned', reason, info };
  if (reason === 'signature') return { state: 'bad-signature', reason, info };
  return { state: info.sameRuntime ? 'valid' : 'other-runtime', info };
}

/** Throws a usage error naming the store when it cannot list its entries. */
export function assertListable(store: BytecodeCache): void {
  if (!store.listEntries || !store.readEntry) {
    throw new UsageError(
      `${store.storeName} cannot list its entries (memcached has no way to enumerate keys); ls, verify, prune and stats need a store that can (fs, Redis, S3, memory)`,
    );
  }
}

/** Every entry of `store`, read and classified. An entry gone between listing and reading is skipped. */
export async function* readEntries(
  store: BytecodeCache,
  secrets: readonly Uint8Array[],
): AsyncGenerator<ReadEntry> {
  assertListable(store);
  for await (const entry of store.listEntries!()) {
    const bytes = await store.readEntry!(entry.key);
    if (!bytes) continue;
    yield { ...entry, size: bytes.length, store, ...classify(bytes, entry.key, secrets) };
  }
}
