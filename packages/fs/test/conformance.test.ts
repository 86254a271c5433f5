import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runConformanceSuite } from '@bcc/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileSystemBytecodeCache } from '../src/index.js';

// The suite's caches outlive single tests, so one root for the file, removed at the end.
let root = '';
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'bcc-conformance-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'fs',
    create: ({ namespace, options }) =>
      new FileSystemBytecodeCache({ directory: join(root, namespace), ...options }),
    // A store that cannot work: the cache directory was replaced by a file after startup.
    createUnreachable: ({ namespace, options }) => {
      const directory = join(root, `${namespace}-broken`);
      const cache = new FileSystemBytecodeCache({ directory, ...options });
      rmSync(directory, { recursive: true });
      writeFileSync(directory, 'not a directory any more');
      return cache;
    },
    features: { clear: true, isolation: true, sync: true },
  },
);

// Caches sharing one directory, kept apart by their patterns only.
runConformanceSuite(
  { describe, it, expect, beforeAll, afterAll },
  {
    name: 'fs (one directory, pattern per namespace)',
    create: ({ namespace, options }) =>
      new FileSystemBytecodeCache({
        directory: join(root, 'shared'),
        pattern: `${namespace}_%s.bcc`,
        ...options,
      }),
    features: { sync: true },
  },
);
