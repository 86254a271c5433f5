import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type BytecodeCache, type PreloadReport, resolveImport } from '@bcc/core';
import { UsageError } from './errors.js';

/** One template's result in a warm-up. */
export interface WarmStep {
  name: string;
  status: 'hit' | 'compiled' | 'failed' | 'missing';
  error?: Error;
}

/** What `bcc warm` knows about the app: its engine object and where its templates are. */
export interface WarmTarget {
  /** The module's default export, or its export named `environment`. */
  environment: unknown;
  /** Template directories: `--views`, else the module's `views` export, else what the engine knows. */
  views: string[];
  /** Compile options the app passes (the module's `options` export), for engines keyed by them. */
  options: Record<string, unknown> | undefined;
}

/** An engine `bcc warm` can fill a cache for. */
interface Warmer {
  /** Shown in messages and the summary. */
  engine: string;
  /** The integration package, imported only when this engine is found. */
  integration: string;
  detect(environment: unknown): boolean;
  /** The templates to warm, in order. */
  templates(target: WarmTarget): string[];
  warm(
    integration: Record<string, unknown>,
    target: WarmTarget,
    cache: BytecodeCache,
    templates: string[],
    onStep: (step: WarmStep) => void,
  ): Promise<void>;
}

const has = (value: unknown, ...methods: string[]) =>
  typeof value === 'object' &&
  value !== null &&
  methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');

/** Files under `dirs` whose names end with one of `extensions`, as absolute paths, sorted. */
export function filesUnder(dirs: readonly string[], extensions: readonly string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile() && extensions.some((ext) => entry.name.endsWith(ext))) found.push(full);
    }
  };
  for (const dir of dirs) walk(resolve(dir));
  return [...new Set(found)].sort();
}

function needViews(target: WarmTarget, engine: string): string[] {
  if (target.views.length === 0) {
    throw new UsageError(
      `${engine} has no template directory bcc can see: pass --views <dir>, or export \`views\` from the module`,
    );
  }
  return target.views;
}

/**
 * The warm-up of an engine whose integration preloads one template at a time (Handlebars, Pug,
 * Eta): installed on the app's engine object, each file preloaded with what `args` gives for
 * it, a failure a failed step, then the writes awaited and the engine restored.
 */
const warmByPreload =
  (args: (file: string, target: WarmTarget) => [items: string[], options: unknown]): Warmer['warm'] =>
  async (integration, target, cache, templates, onStep) => {
    const use = integration.useBytecodeCache as (
      engine: unknown,
      cache: BytecodeCache,
      o: object,
    ) => HandleLike;
    const handle = use(target.environment, cache, { onError: () => {} });
    try {
      for (const file of templates) {
        try {
          const report = await handle.preload(...args(file, target));
          if (report.failed[0]) throw report.failed[0].error;
          onStep({ name: file, status: report.hits > 0 ? 'hit' : 'compiled' });
        } catch (error) {
          onStep({ name: file, status: 'failed', error: error as Error });
        }
      }
      await handle.flush();
    } finally {
      handle.dispose();
    }
  };

const WARMERS: readonly Warmer[] = [
  {
    engine: 'Nunjucks',
    integration: '@bcc/nunjucks',
    detect: (env) =>
      has(env, 'getTemplate', 'render') && Array.isArray((env as { loaders?: unknown }).loaders),
    // Nunjucks' own warm-up walks its FileSystemLoaders' search paths (or --views).
    templates: () => [],
    async warm(integration, target, cache, _templates, onStep) {
      const warm = integration.warmBytecodeCache as (
        env: unknown,
        cache: BytecodeCache,
        options: object,
      ) => Promise<unknown>;
      await warm(target.environment, cache, {
        ...(target.views.length > 0 ? { dirs: target.views } : {}),
        onProgress: (progress: WarmStep) =>
          onStep({
            name: progress.name,
            status: progress.status,
            ...(progress.error ? { error: progress.error } : {}),
          }),
      });
    },
  },
  {
    engine: 'Handlebars',
    integration: '@bcc/handlebars',
    detect: (env) => has(env, 'precompile', 'template', 'compile'),
    templates: (target) => filesUnder(needViews(target, 'Handlebars'), ['.hbs', '.handlebars']),
    warm: warmByPreload((file, target) => [[readFileSync(file, 'utf8')], target.options]),
  },
  {
    engine: 'Pug',
    integration: '@bcc/pug',
    detect: (env) => has(env, 'compile', 'compileFile', 'renderFile'),
    templates: (target) => filesUnder(needViews(target, 'Pug'), ['.pug']),
    warm: warmByPreload((file, target) => [[file], target.options]),
  },
  {
    engine: 'Eta',
    integration: '@bcc/eta',
    detect: (env) => has(env, 'compileToString', 'renderString'),
    templates: (target) => {
      const views = (target.environment as { config?: { views?: unknown } }).config?.views;
      const dirs = target.views.length > 0 ? target.views : typeof views === 'string' ? [views] : [];
      return filesUnder(needViews({ ...target, views: dirs }, 'Eta'), ['.eta']);
    },
    // Eta keys a file's template by the absolute path it resolves; async templates are not warmed.
    warm: warmByPreload((file) => [[readFileSync(file, 'utf8')], { filepath: file }]),
  },
];

interface HandleLike {
  preload(items: readonly string[], options?: unknown): Promise<PreloadReport<{ error: Error }>>;
  flush(): Promise<void>;
  dispose(): void;
}

/** The warmer for the module's engine object; a usage error naming what was found otherwise. */
export function warmerFor(environment: unknown): Warmer {
  const warmer = WARMERS.find((candidate) => candidate.detect(environment));
  if (!warmer) {
    const what =
      environment === null
        ? 'null'
        : typeof environment === 'object'
          ? 'an object bcc does not recognise'
          : typeof environment;
    throw new UsageError(
      `the module's default export (or \`environment\` export) must be the app's engine: a Nunjucks Environment, a Handlebars instance, the pug module or an Eta instance; got ${what}`,
    );
  }
  return warmer;
}

/**
 * Imports an engine integration as the app sees it (resolved from the app's module first, so
 * it drives the app's own copy of the engine), else as this command sees it.
 */
export async function importIntegration(warmer: Warmer, appModule: string): Promise<Record<string, unknown>> {
  const url = resolveImport(warmer.integration, [appModule, import.meta.url]);
  if (url) return (await import(url)) as Record<string, unknown>;
  throw new UsageError(
    `warming a ${warmer.engine} app needs ${warmer.integration}: npm install ${warmer.integration}`,
  );
}
