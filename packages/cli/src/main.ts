import { isBccError } from '@bcc/core';
import { Command, CommanderError, Option } from 'commander';
import { clear } from './commands/clear.js';
import { inspect } from './commands/inspect.js';
import { ls } from './commands/ls.js';
import { prune } from './commands/prune.js';
import { stats } from './commands/stats.js';
import { verify } from './commands/verify.js';
import { warm } from './commands/warm.js';
import { EXIT } from './errors.js';
import { type OpenedCache, openCache } from './open-cache.js';
import { makeOutput, type Output } from './output.js';

/** Where `main` writes; the process's own streams by default. */
export interface MainStreams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

const VERSION = '0.1.0';

/**
 * Runs the `bcc` command with `argv` (the arguments after `bcc`) and resolves to its exit code:
 * 0 fine, 1 problems found, 2 usage or configuration error. Never calls `process.exit`.
 */
export async function main(argv: readonly string[], streams: MainStreams = process): Promise<number> {
  let code: number = EXIT.ok;
  const program = new Command('bcc')
    .description(
      'Operate a bcc bytecode cache: fill it in a deploy step, see and check what is in it, keep it bounded.',
    )
    .version(VERSION)
    .addOption(
      new Option(
        '--cache <spec>',
        'the cache, as BCC_CACHE takes it (e.g. file:///var/cache/bcc, redis://host:6379)',
      ).env('BCC_CACHE'),
    )
    .option('--json', 'machine-readable output')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => streams.stdout.write(text),
      writeErr: (text) => streams.stderr.write(text),
    });
  program.addHelpText(
    'after',
    '\nThe secret comes from BCC_SECRET (and BCC_SECRET_PREVIOUS). Exit codes: 0 fine, 1 problems found, 2 usage or configuration error.',
  );

  /** Each command: open the cache, run, close it, keep the exit code. */
  const run =
    <A extends unknown[]>(work: (opened: OpenedCache, out: Output, ...args: A) => Promise<number>) =>
    async (...args: A) => {
      const globals = program.opts<{ cache?: string; json?: boolean }>();
      const out = makeOutput(!!globals.json, streams);
      const opened = await openCache(globals.cache);
      try {
        code = await work(opened, out, ...args);
      } catch (error) {
        if (isBccError(error)) throw error;
        // A client's own error ("Stream isn't writeable"): say which store, password masked.
        throw new Error(`${opened.shown}: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      } finally {
        await opened.cache.close().catch(() => {});
      }
    };

  program
    .command('warm')
    .description("compile and store every template of the app's engine (a deploy step)")
    .argument(
      '<module>',
      'a module whose default export (or `environment` export) is the configured engine object',
    )
    .option(
      '--views <dir...>',
      "template directories (default: the module's `views` export, or what the engine knows)",
    )
    .action(
      run((opened, out, module: string, options: { views?: string[] }) => warm(opened, module, options, out)),
    );
  program
    .command('ls')
    .description('list the entries: template, engine, sizes, runtime, signature, age')
    .option('--sort <field>', 'name, size, age or engine', 'name')
    .option('--engine <prefix>', 'only entries of this engine (e.g. nunjucks)')
    .option('--name <text>', 'only templates whose name contains this')
    .option('--state <state>', 'only entries in this state (valid, other-runtime, old-format, corrupt, …)')
    .action(
      run((opened, out, options: { sort: string; engine?: string; name?: string; state?: string }) =>
        ls(opened, options, out),
      ),
    );
  program
    .command('inspect')
    .description("an entry's header and the verdict of loading it here (hit, or the rule that refuses it)")
    .argument('<target>', 'an entry key, a template name, or a template file')
    .action(run((opened, out, target: string) => inspect(opened, target, out)));
  program
    .command('verify')
    .description('decode every entry and count valid, corrupt, other runtime, unsigned, bad signature')
    .option('--delete', 'remove the entries a load would refuse')
    .action(run((opened, out, options: { delete?: boolean }) => verify(opened, options, out)));
  program
    .command('prune')
    .description('remove entries beyond an age and a total size, oldest first')
    .option('--max-age <duration>', 'e.g. 30d, 12h, 90m')
    .option('--max-size <size>', 'e.g. 500MB, 2GiB')
    .option('--dry-run', 'say what would go, remove nothing')
    .action(
      run((opened, out, options: { maxAge?: string; maxSize?: string; dryRun?: boolean }) =>
        prune(opened, options, out),
      ),
    );
  program
    .command('clear')
    .description("remove every entry of the cache (this cache's entries only)")
    .option('--yes', 'do not ask')
    .action(run((opened, out, options: { yes?: boolean }) => clear(opened, options, out)));
  program
    .command('stats')
    .description('entries and bytes per store (per tier)')
    .action(run((opened, out) => stats(opened, out)));

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    streams.stderr.write(`bcc: ${message}\n`);
    const configuration =
      isBccError(error) &&
      (error.code === 'ERR_BCC_CONFIG' || error.code === 'ERR_BCC_ADAPTER_NOT_INSTALLED');
    return configuration ? EXIT.usage : EXIT.problems;
  }
}
