import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SingleBar } from 'cli-progress';
import { importIntegration, type WarmStep, type WarmTarget, warmerFor } from '../engines.js';
import { EXIT, UsageError } from '../errors.js';
import type { OpenedCache } from '../open-cache.js';
import type { Output } from '../output.js';

/** Loads the app's module: its default export (or `environment`), `views` and `options`. */
async function loadApp(modulePath: string, views: readonly string[]): Promise<WarmTarget> {
  const file = resolve(modulePath);
  if (!existsSync(file)) throw new UsageError(`no such module: ${file}`);
  const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  const environment = mod.default ?? mod.environment;
  const exported = mod.views;
  const moduleViews =
    typeof exported === 'string' ? [exported] : Array.isArray(exported) ? exported.map(String) : [];
  const options = mod.options;
  return {
    environment,
    views: views.length > 0 ? [...views] : moduleViews,
    options:
      typeof options === 'object' && options !== null ? (options as Record<string, unknown>) : undefined,
  };
}

/**
 * `bcc warm <module>`: fills the cache with every template the app's engine object can find,
 * compiled with exactly the app's options. A progress bar on a terminal, one line per template
 * otherwise; a summary; exit 1 when any template failed.
 */
export async function warm(
  opened: OpenedCache,
  modulePath: string,
  options: { views?: string[] },
  out: Output,
): Promise<number> {
  const target = await loadApp(modulePath, options.views ?? []);
  const warmer = warmerFor(target.environment);
  const integration = await importIntegration(warmer, pathToFileURL(resolve(modulePath)).href);
  const templates = warmer.templates(target);
  const steps: WarmStep[] = [];
  const bar =
    !out.json && out.stderr.isTTY
      ? new SingleBar({ stream: out.stderr, format: ' {bar} {value}/{total} {name}', hideCursor: true })
      : null;
  bar?.start(templates.length || 1, 0, { name: '' });
  const onStep = (step: WarmStep) => {
    steps.push(step);
    if (bar) {
      bar.setTotal(Math.max(templates.length, steps.length));
      bar.update(steps.length, { name: step.name });
    } else if (!out.json) {
      const status =
        step.status === 'failed' || step.status === 'missing' ? out.style('red', step.status) : step.status;
      out.line(`${status.padEnd(8)} ${step.name}${step.error ? `: ${step.error.message}` : ''}`);
    }
  };
  try {
    await warmer.warm(integration, target, opened.cache, templates, onStep);
  } finally {
    bar?.stop();
  }
  const count = (status: WarmStep['status']) => steps.filter((step) => step.status === status).length;
  const summary = {
    engine: warmer.engine,
    cache: opened.shown,
    total: steps.length,
    compiled: count('compiled'),
    alreadyValid: count('hit'),
    failed: steps
      .filter((step) => step.status === 'failed' || step.status === 'missing')
      .map((step) => ({ name: step.name, error: step.error?.message ?? step.status })),
  };
  if (out.json) out.data(summary);
  else {
    if (bar)
      for (const failure of summary.failed)
        out.line(`${out.style('red', 'failed')}   ${failure.name}: ${failure.error}`);
    out.line(
      `${summary.engine}: ${summary.total} templates, ${summary.compiled} compiled, ${summary.alreadyValid} already valid, ${summary.failed.length} failed (${summary.cache})`,
    );
  }
  return summary.failed.length > 0 ? EXIT.problems : EXIT.ok;
}
