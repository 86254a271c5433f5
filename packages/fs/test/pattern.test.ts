import { BccConfigError } from '@bcc/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryPattern, FileSystemBytecodeCache } from '../src/index.js';
import { scratchDir } from './helpers.js';

describe('pattern', () => {
  it.each([
    ['no %s', '__bcc.cache'],
    ['two %s', '__bcc_%s_%s.cache'],
    ['a path separator', 'sub/__bcc_%s.cache'],
    ['a backslash', 'sub\\__bcc_%s.cache'],
    ['nothing but %s', '%s'],
  ])('refuses a pattern with %s at construction', (_label, pattern) => {
    const directory = scratchDir();
    const make = () => new FileSystemBytecodeCache({ directory, pattern });
    expect(make).toThrow(BccConfigError);
    expect(make).toThrow(/pattern/);
  });

  it('accepts the default and custom patterns', () => {
    const directory = scratchDir();
    expect(new FileSystemBytecodeCache({ directory }).pattern).toBe('__bcc_%s.cache');
    expect(new FileSystemBytecodeCache({ directory, pattern: 'tpl-%s' }).pattern).toBe('tpl-%s');
    expect(new FileSystemBytecodeCache({ directory, pattern: '%s.bcc' }).pattern).toBe('%s.bcc');
  });

  it('maps keys to file names and matches them back', () => {
    const names = new EntryPattern('__bcc_%s.cache');
    const key = 'a'.repeat(64);
    expect(names.fileName(key)).toBe(`__bcc_${key}.cache`);
    expect(names.matchesEntry(`__bcc_${key}.cache`)).toBe(true);
    expect(names.matchesEntry('__bcc_.cache')).toBe(false);
    expect(names.matchesEntry('__bcc_x.cache.bak')).toBe(false);
    expect(names.matchesEntry('other_x.cache')).toBe(false);
  });

  it('matches only default-shaped keys, so patterns that prefix each other stay apart', () => {
    const key = 'ab'.repeat(32);
    const a = new EntryPattern('a_%s.cache');
    const ab = new EntryPattern('a_b_%s.cache');
    expect(a.matchesEntry(ab.fileName(key))).toBe(false);
    expect(ab.matchesEntry(a.fileName(key))).toBe(false);
    expect(a.matchesEntry(a.fileName(key))).toBe(true);
    // With custom keys, any file-name-safe key part matches.
    const custom = new EntryPattern('a_%s.cache', { defaultKeys: false });
    expect(custom.matchesEntry('a_b_anything.cache')).toBe(true);
    expect(custom.matchesEntry('a_.hidden.cache')).toBe(false);
  });

  it('refuses keys that are not file-name safe', () => {
    const names = new EntryPattern('__bcc_%s.cache');
    for (const key of ['../x', 'a/b', '.hidden', '', 'a\\b', 'x'.repeat(151)]) {
      expect(() => names.fileName(key)).toThrow(BccConfigError);
    }
  });

  it('never lets a temp file name match an entry pattern', () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9._-]{0,8}$/);
    const key = fc.stringMatching(/^[A-Za-z0-9_-][A-Za-z0-9._-]{0,20}$/);
    fc.assert(
      fc.property(segment, segment, key, (prefix, suffix, k) => {
        fc.pre(prefix !== '' || suffix !== '');
        const names = new EntryPattern(`${prefix}%s${suffix}`, { defaultKeys: false });
        const temp = names.tempName(names.fileName(k), 'abc123');
        expect(names.matchesEntry(temp)).toBe(false);
        expect(names.matchesTemp(temp)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
