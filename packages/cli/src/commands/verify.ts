import { BAD_STATES, type EntryState, readEntries } from '../entries.js';
import { EXIT } from '../errors.js';
import type { OpenedCache } from '../open-cache.js';
import { type Output, printable } from '../output.js';

/**
 * `bcc verify`: decodes every entry and counts them by state; `--delete` removes the ones a
 * load would refuse. Exit 1 when any is bad (also when deleted: the store had a problem).
 */
export async function verify(
  opened: OpenedCache,
  options: { delete?: boolean },
  out: Output,
): Promise<number> {
  const counts: Record<EntryState, number> = {
    valid: 0,
    'other-runtime': 0,
    'old-format': 0,
    corrupt: 0,
    'foreign-key': 0,
    unsigned: 0,
    'bad-signature': 0,
  };
  const bad: { store: string; key: string; name: string | null; state: EntryState; reason?: string }[] = [];
  let deleted = 0;
  for (const store of opened.stores) {
    for await (const entry of readEntries(store, opened.secrets)) {
      counts[entry.state]++;
      if (!BAD_STATES.includes(entry.state)) continue;
      bad.push({
        store: store.storeName,
        key: entry.key,
        name: entry.info?.name ?? null,
        state: entry.state,
        ...(entry.reason ? { reason: entry.reason } : {}),
      });
      if (options.delete && (await store.deleteEntry?.(entry.key))) deleted++;
    }
  }
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  if (out.json) out.data({ total, counts, bad, deleted });
  else {
    for (const entry of bad) {
      out.line(
        `${out.style('red', entry.state.padEnd(13))} ${entry.key}  ${printable(entry.name ?? '')}${entry.reason ? `  (${entry.reason})` : ''}`,
      );
    }
    const parts = Object.entries(counts)
      .filter(([, n]) => n > 0)
      .map(([state, n]) => `${n} ${state}`);
    out.line(
      `${total} entries: ${parts.join(', ') || 'none'}${options.delete ? `; ${deleted} deleted` : ''}`,
    );
    if (counts.unsigned > 0 || counts['bad-signature'] > 0)
      out.note(
        'Unsigned or forged entries mean someone without the secret wrote to the store: find out who.',
      );
  }
  return bad.length > 0 ? EXIT.problems : EXIT.ok;
}
