import { createInterface } from 'node:readline/promises';
import { EXIT, UsageError } from '../errors.js';
import type { OpenedCache } from '../open-cache.js';
import type { Output } from '../output.js';

/** `bcc clear`: removes the cache's entries (every tier), after a question on a terminal or with `--yes`. */
export async function clear(opened: OpenedCache, options: { yes?: boolean }, out: Output): Promise<number> {
  if (!options.yes) {
    if (!process.stdin.isTTY || !out.stderr.isTTY) {
      throw new UsageError(
        'clear removes every entry of the cache: pass --yes to confirm (no terminal to ask on)',
      );
    }
    const ask = createInterface({ input: process.stdin, output: out.stderr });
    const answer = await ask.question(
      `Remove every entry of ${opened.stores.map((s) => s.storeName).join(', ')}? [y/N] `,
    );
    ask.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      out.note('Nothing removed.');
      return EXIT.ok;
    }
  }
  const failures: string[] = [];
  for (const store of opened.stores) {
    try {
      await store.clear();
    } catch (error) {
      failures.push(`${store.storeName}: ${(error as Error).message}`);
    }
  }
  if (out.json) out.data({ cleared: opened.stores.map((s) => s.storeName), failures });
  else {
    for (const failure of failures) out.line(out.style('red', `failed: ${failure}`));
    if (failures.length === 0) out.line(`cleared ${opened.stores.map((s) => s.storeName).join(', ')}`);
  }
  return failures.length > 0 ? EXIT.problems : EXIT.ok;
}
