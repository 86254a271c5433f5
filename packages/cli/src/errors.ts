import { BccConfigError } from '@bcc/core';

/** Exit codes of every command. */
export const EXIT = {
  /** Done, nothing wrong found. */
  ok: 0,
  /** Done, and problems found (a failed template, a bad entry, an entry that would miss). */
  problems: 1,
  /** Bad arguments or configuration: nothing was done. */
  usage: 2,
} as const;

/** A mistake on the command line: printed without a stack, exit code 2 (as a `BccConfigError` is). */
export class UsageError extends BccConfigError {}
