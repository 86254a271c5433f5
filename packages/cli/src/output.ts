import { styleText } from 'node:util';

/** Where a command writes, and how: colour only on a terminal, JSON for machines. */
export interface Output {
  readonly json: boolean;
  /** A line of normal output (stdout). */
  line(text?: string): void;
  /** A line about the run itself (stderr): progress, notes. */
  note(text: string): void;
  /** Prints `value` as JSON (stdout). */
  data(value: unknown): void;
  /** Colours for terminals; plain text elsewhere and with `NO_COLOR`. */
  style(format: 'red' | 'green' | 'yellow' | 'dim' | 'bold', text: string): string;
  readonly stdout: NodeJS.WriteStream;
  readonly stderr: NodeJS.WriteStream;
}

export function makeOutput(
  json: boolean,
  streams: { stdout: NodeJS.WriteStream; stderr: NodeJS.WriteStream } = process,
): Output {
  const colour = !!streams.stdout.isTTY && !process.env.NO_COLOR;
  return {
    json,
    line: (text = '') => streams.stdout.write(`${text}\n`),
    note: (text) => streams.stderr.write(`${text}\n`),
    data: (value) => streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    style: (format, text) => (colour ? styleText(format, text) : text),
    stdout: streams.stdout,
    stderr: streams.stderr,
  };
}

/**
 * Text from an entry's header made safe for a terminal: control characters (an escape sequence
 * in a planted entry's template name could rewrite the screen) become `?`. JSON output escapes
 * them by itself.
 */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, '?');
}

/** Rows as aligned columns; `right` names the columns aligned to the right (numbers). */
export function table(
  given: readonly Record<string, string>[],
  columns: readonly string[],
  right: readonly string[] = [],
): string[] {
  const rows = given.map((row) =>
    Object.fromEntries(columns.map((column) => [column, printable(row[column] ?? '')])),
  );
  const widths = columns.map((column) =>
    Math.max(column.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const cell = (text: string, i: number) =>
    right.includes(columns[i]!) ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const lines = [columns.map((column, i) => cell(column.toUpperCase(), i)).join('  ')];
  for (const row of rows)
    lines.push(
      columns
        .map((column, i) => cell(row[column] ?? '', i))
        .join('  ')
        .trimEnd(),
    );
  return lines;
}
