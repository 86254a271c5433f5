import { pruneEntries } from '@bcc/core';
import { assertListable } from '../entries.js';
import { EXIT, UsageError } from '../errors.js';
import type { OpenedCache } from '../open-cache.js';
import type { Output } from '../output.js';
import { formatBytes, parseDuration, parseSize } from '../units.js';

/** `bcc prune --max-age 30d --max-size 500MB`: oldest entries first, in every store that can list. */
export async function prune(
  opened: OpenedCache,
  options: { maxAge?: string; maxSize?: string; dryRun?: boolean },
  out: Output,
): Promise<number> {
  if (options.maxAge === undefined && options.maxSize === undefined) {
    throw new UsageError(
      'prune needs --max-age <duration> and/or --max-size <size>, e.g. --max-age 30d --max-size 500MB',
    );
  }
  const bounds = {
    maxAge: options.maxAge === undefined ? undefined : parseDuration(options.maxAge, '--max-age'),
    maxSize: options.maxSize === undefined ? undefined : parseSize(options.maxSize, '--max-size'),
  };
  for (const store of opened.stores) assertListable(store);
  const reports = [];
  for (const store of opened.stores) {
    const report = await pruneEntries(store, bounds, { dryRun: !!options.dryRun });
    reports.push({ store: store.storeName, ...report });
    if (!out.json) {
      const verb = options.dryRun ? 'would remove' : 'removed';
      out.line(
        `${store.storeName}: ${verb} ${report.removed} of ${report.examined} entries (${formatBytes(report.removedBytes)}); ${formatBytes(report.keptBytes)} kept`,
      );
    }
  }
  if (out.json) out.data({ dryRun: !!options.dryRun, stores: reports });
  return EXIT.ok;
}
