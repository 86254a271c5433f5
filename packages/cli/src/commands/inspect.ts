import { isAbsolute, resolve } from 'node:path';
import { type BytecodeCache, readSourceFile } from '@bcc/core';
import { assertListable, classify, type ReadEntry, readEntries } from '../entries.js';
import { EXIT } from '../errors.js';
import type { OpenedCache } from '../open-cache.js';
import { type Output, printable } from '../output.js';
import { formatAge, formatBytes } from '../units.js';

/** What loading the entry here would do, and why. */
interface Verdict {
  hit: boolean;
  /** `hit`, `hit-js-only`, or the rule that refuses it. */
  outcome: string;
  why: string;
}

const STATE_WHY: Record<string, string> = {
  'old-format': 'it was written by another bcc format version; it is a miss and is rewritten on use',
  corrupt: 'its bytes are not a whole entry (truncated, bit rot, a torn write)',
  'foreign-key': 'it was written for another key: copied or stored under the wrong name',
  unsigned: 'BCC_SECRET is set and the entry is not signed: someone without the secret wrote it',
  'bad-signature': 'its signature does not verify under BCC_SECRET: someone without the secret wrote it',
};

/** Files an entry names are read without blocking: an untrusted entry may name a FIFO. */
const readText = readSourceFile;

/**
 * The verdict of loading `entry` in this process: the frame's own checks, then, when the
 * template is a file here, its checksum and those of the files it inlined.
 */
function verdictOf(entry: ReadEntry, store: BytecodeCache, file: string): Verdict {
  const info = entry.info;
  if (!info || entry.state in STATE_WHY) {
    return { hit: false, outcome: entry.reason ?? entry.state, why: STATE_WHY[entry.state] ?? entry.state };
  }
  // The template's file: its name when that is a path, or the file the operator named.
  const path = isAbsolute(info.name) ? info.name : matchesFile(info.name, file) ? file : undefined;
  const source = path === undefined ? undefined : readText(path);
  if (source !== undefined && store.getSourceChecksum(source) !== info.checksum) {
    return { hit: false, outcome: 'checksum', why: `${path} changed since the entry was written` };
  }
  for (const dependency of info.dependencies) {
    const text = readText(dependency.name);
    if (text === undefined || store.getSourceChecksum(text) !== dependency.checksum) {
      return {
        hit: false,
        outcome: 'dependency',
        why: `${dependency.name}, which the template inlined, ${text === undefined ? 'is gone' : 'changed'}`,
      };
    }
  }
  if (!info.sameRuntime) {
    return {
      hit: true,
      outcome: 'hit-js-only',
      why: `the V8 cache was made under ${info.runtime}: the JavaScript is used and the V8 cache made again`,
    };
  }
  return {
    hit: true,
    outcome: 'hit',
    why:
      source === undefined
        ? 'sound (the template source was not checked: name its file to check it too)'
        : 'sound, and the template and its files are unchanged',
  };
}

/** True when `file` (absolute) is the template `name` (a loader-relative name such as `pages/a.html`). */
const matchesFile = (name: string, file: string) =>
  name !== '' && (file === name || file.endsWith(`/${name}`));

/** Entries matching `target`: a key, a template name, or a file (its absolute path). */
async function find(opened: OpenedCache, target: string): Promise<ReadEntry[]> {
  const found: ReadEntry[] = [];
  for (const store of opened.stores) {
    if (/^[0-9a-f]{16,}$/i.test(target) && store.readEntry) {
      const bytes = await store.readEntry(target);
      if (bytes) {
        found.push({ key: target, size: bytes.length, store, ...classify(bytes, target, opened.secrets) });
        continue;
      }
    }
    assertListable(store);
    const file = resolve(target);
    for await (const entry of readEntries(store, opened.secrets)) {
      const name = entry.info?.name;
      if (name === undefined) {
        if (entry.key.startsWith(target)) found.push(entry);
      } else if (
        name === target ||
        name.endsWith(`/${target}`) ||
        matchesFile(name, file) ||
        entry.key.startsWith(target)
      )
        found.push(entry);
    }
  }
  return found;
}

/** `bcc inspect <key | name | file>`: header fields and the verdict of loading each matching entry. */
export async function inspect(opened: OpenedCache, target: string, out: Output): Promise<number> {
  const found = await find(opened, target);
  const results = found.map((entry) => ({ entry, verdict: verdictOf(entry, entry.store, resolve(target)) }));
  if (out.json) {
    out.data(
      results.map(({ entry, verdict }) => ({
        store: entry.store.storeName,
        key: entry.key,
        state: entry.state,
        ...(entry.info
          ? { ...entry.info, created: entry.info.created.toISOString() }
          : { size: entry.size, version: entry.version ?? null }),
        verdict,
      })),
    );
  } else if (results.length === 0) {
    out.line(`no entry for ${target}`);
  }
  if (!out.json) {
    for (const { entry, verdict } of results) {
      const info = entry.info;
      const rows: [string, string][] = [
        ['store', entry.store.storeName],
        ['key', entry.key],
        ['size', formatBytes(entry.size)],
      ];
      if (info) {
        rows.push(
          ['template', info.name || '(no name)'],
          ['engine', info.engine || '(unknown)'],
          [
            'created',
            `${info.created.toISOString()} (${formatAge(Date.now() - info.created.getTime())} ago)`,
          ],
          ['format', `version ${info.version}${info.signed ? ', signed' : ', unsigned'}`],
          ['checksum', info.checksum],
          ['runtime', `${info.runtime}${info.sameRuntime ? ' (this process)' : ''}`],
          ['javascript', formatBytes(info.jsBytes)],
          ['v8 cache', info.v8Bytes > 0 ? formatBytes(info.v8Bytes) : 'none'],
        );
        for (const dependency of info.dependencies) rows.push(['inlines', dependency.name]);
      } else if (entry.version !== undefined) rows.push(['format', `version ${entry.version}`]);
      for (const [label, value] of rows) out.line(`${label.padEnd(11)} ${printable(value)}`);
      const head = verdict.hit
        ? out.style('green', verdict.outcome)
        : out.style('red', `miss (${verdict.outcome})`);
      out.line(`${'verdict'.padEnd(11)} ${head}: ${printable(verdict.why)}`);
      out.line();
    }
  }
  return results.length > 0 && results.every(({ verdict }) => verdict.hit) ? EXIT.ok : EXIT.problems;
}
