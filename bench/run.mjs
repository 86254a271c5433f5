// The headline benchmark (`pnpm bench` at the repository root): fresh Node processes rendering
// Nunjucks templates, on every Node version bcc supports, each mode against what a
// well-informed team would pick instead (Nunjucks' precompiled path, with Node's compile cache
// on Node 22 and 24 for every mode), and against the limit no template cache can beat. Modes are
// interleaved round by round so machine noise hits all of them alike. Prints medians and ratios
// and writes docs/performance.md with a chart (docs/performance.svg).
//
//   node run.mjs [--runs N] [--node 20,22,24] [--no-write]   (BCC_BENCH_RUNS, BCC_TEST_REDIS_URL honoured)
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installNode } from '../scripts/install-node.mjs';
import { renderChart } from './chart.mjs';
import { pageName, pageNames, smallPage, templates, writeTemplates } from './generate.mjs';
import { writeHbsPrecompiled, writeHbsTemplates } from './generate-hbs.mjs';
import { pageNames as pugEtaPages, writeEta, writePug } from './generate-pug-eta.mjs';
import { writePrecompiled } from './precompile.mjs';
import { explain, judge } from './targets.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const argValue = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const RUNS = Number(argValue('--runs') ?? process.env.BCC_BENCH_RUNS ?? 9);
const WRITE = !args.includes('--no-write');
const MAJORS = (argValue('--node') ?? '20,22,24').split(',').map((m) => m.trim());
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error('--runs must be a positive integer');

const work = join(here, '.generated');
const freshDir = (dir) => {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
};

// --- workloads ---------------------------------------------------------------------------
// fifty: 40 pages reaching 50 templates. large app: 500 templates, a process renders 5 pages.
// small page: one page, its layout and its macros (a serverless function).
const LARGE_PAGES = 490;
const workloads = {
  fifty: { dir: join(work, 'templates'), pages: pageNames, files: templates() },
  app: {
    dir: join(work, 'templates-app'),
    pages: [1, 97, 211, 333, 457].map(pageName),
    files: templates({ pages: LARGE_PAGES }),
  },
  small: { dir: join(work, 'templates-small'), pages: ['page.njk'], files: smallPage },
};
for (const w of Object.values(workloads)) {
  writeTemplates(w.dir, { files: w.files });
  w.precompiled = `${w.dir}.precompiled.cjs`;
  writePrecompiled(w.dir, w.precompiled);
}

// Handlebars: 50 templates (a layout, 9 partials, 40 pages) rendered through express-handlebars' way.
const hbsDir = join(work, 'templates-hbs');
const hbsPrecompiled = `${hbsDir}.precompiled.cjs`;
writeHbsTemplates(hbsDir);
writeHbsPrecompiled(hbsPrecompiled);

// Pug and Eta: 50 templates each (a layout, 9 partials, 40 pages), and each engine's own
// precompiled module.
const pugDir = join(work, 'templates-pug');
const etaDir = join(work, 'templates-eta');
writePug(pugDir, `${pugDir}.precompiled.cjs`);
writeEta(etaDir, `${etaDir}.precompiled.cjs`);

// Redis: the user's server, or one started for the benchmark on a free loopback port.
let redis = null;
let redisUrl = process.env.BCC_TEST_REDIS_URL ?? null;
let redisNote = '';
if (!redisUrl) {
  try {
    const { startRedis } = await import('@bcc/test-servers');
    redis = await startRedis();
    redisUrl = redis.url;
  } catch (error) {
    redisNote = `bcc + redis skipped: could not start redis-server (${error.message})`;
    console.warn(redisNote);
  }
}

// Children run without settings that slow every Node process and have nothing to do with
// templates: NODE_EXTRA_CA_CERTS (+33 ms per process on the machine these figures come from)
// and NODE_OPTIONS (preloads, flags that change V8's code-cache tag).
const baseEnv = { ...process.env };
delete baseEnv.NODE_EXTRA_CA_CERTS;
delete baseEnv.NODE_OPTIONS;
delete baseEnv.NODE_COMPILE_CACHE;

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** Everything measured on one Node version. */
function measure(major) {
  const bin = join(installNode(major), 'node');
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  const compileCache = Number(major) >= 22;
  const root = join(work, `node-${major}`);
  freshDir(root);
  const envFor = (id) =>
    compileCache ? { ...baseEnv, NODE_COMPILE_CACHE: join(root, 'compile-cache', id) } : baseEnv;

  // check: the child digests what it rendered (only the priming runs compare output).
  const run = (mode, { check = false } = {}) => {
    const config = check ? { ...mode.config, check: true } : mode.config;
    const started = process.hrtime.bigint();
    const out = execFileSync(
      bin,
      [...(mode.nodeArgs ?? []), join(here, 'children', `${mode.child}.mjs`), JSON.stringify(config)],
      {
        encoding: 'utf8',
        env: envFor(mode.id),
      },
    );
    const wall = Number(process.hrtime.bigint() - started) / 1e6;
    return { ...JSON.parse(out.trim().split('\n').pop()), wall };
  };

  const modesFor = (name, w, { redisToo = false, eagerToo = false } = {}) => {
    const base = { templates: w.dir, pages: w.pages };
    return [
      { id: `${name}-none`, kind: 'none', child: 'none', config: base },
      {
        id: `${name}-precompiled`,
        kind: 'precompiled',
        child: 'precompiled',
        config: { ...base, precompiled: w.precompiled },
      },
      // Not a target's baseline: the strongest variant of the build step found so far. With
      // V8's --no-lazy every function is compiled when its module is, so Node's compile cache
      // holds all of the template functions (and Nunjucks' own runtime), which it otherwise
      // never does (it keeps only what V8 compiled eagerly). Only where there is a compile cache.
      ...(eagerToo && compileCache
        ? [
            {
              id: `${name}-precompiled-eager`,
              kind: 'precompiled-eager',
              child: 'precompiled',
              nodeArgs: ['--no-lazy'],
              config: { ...base, precompiled: w.precompiled },
            },
          ]
        : []),
      {
        id: `${name}-bcc-fs`,
        kind: 'bcc-fs',
        child: 'bcc-fs',
        config: { ...base, directory: join(root, `${name}-fs`) },
      },
      // The working-set bundle: a cold process writes it, the next adds V8's code cache to it.
      {
        id: `${name}-bcc-fs-bundle`,
        kind: 'bcc-fs-bundle',
        child: 'bcc-fs',
        primeRuns: 3,
        config: { ...base, directory: join(root, `${name}-fs-bundle`), bundle: 'bench' },
      },
      ...(redisToo && redisUrl
        ? [
            {
              id: `${name}-bcc-redis`,
              kind: 'bcc-redis',
              child: 'bcc-redis',
              config: { ...base, redis: redisUrl, prefix: `bench/${process.pid}/${major}/` },
            },
            {
              id: `${name}-bcc-redis-bundle`,
              kind: 'bcc-redis-bundle',
              child: 'bcc-redis',
              primeRuns: 3,
              config: {
                ...base,
                redis: redisUrl,
                prefix: `bench/${process.pid}/${major}/bundle/`,
                bundle: 'bench',
              },
            },
          ]
        : []),
    ];
  };

  /** Primes (cold process, then one that stores V8's code cache), checks output, then times. */
  const timeModes = (modes, extraCheck) => {
    const reference = run(modes[0], { check: true });
    for (const mode of modes) {
      const primeRuns = mode.primeRuns ?? 2;
      for (let i = 0; i < primeRuns; i++) {
        const result = run(mode, { check: true });
        if (result.digest !== reference.digest)
          throw new Error(`${mode.id} on ${version} rendered other output`);
        if (i === primeRuns - 1) extraCheck?.(mode, result);
      }
    }
    const results = Object.fromEntries(modes.map((m) => [m.kind, []]));
    for (let round = 0; round < RUNS; round++) {
      for (let k = 0; k < modes.length; k++) {
        const mode = modes[(round + k) % modes.length];
        results[mode.kind].push(run(mode));
      }
    }
    return Object.fromEntries(
      Object.entries(results).map(([kind, list]) => [
        kind,
        {
          wall: median(list.map((r) => r.wall)),
          min: Math.min(...list.map((r) => r.wall)),
          max: Math.max(...list.map((r) => r.wall)),
          // In round order: round i of every mode ran back to back, so ratios can be paired.
          rounds: list.map((r) => r.wall),
        },
      ]),
    );
  };

  process.stdout.write(`\nNode ${version}${compileCache ? ' (NODE_COMPILE_CACHE on for every mode)' : ''}:`);
  const allHits = (mode, result) => {
    if (mode.kind.startsWith('bcc') && (result.stats.compiled !== 0 || result.stats.cacheV8 === 0)) {
      throw new Error(
        `${mode.id} on ${version} was not served from the cache: ${JSON.stringify(result.stats)}`,
      );
    }
  };
  const fifty = timeModes(modesFor('fifty', workloads.fifty, { redisToo: true, eagerToo: true }), allHits);
  process.stdout.write(' 50 templates;');

  // The limit: starting Node and importing Nunjucks, plus rendering in a warm process.
  const limitConfig = { templates: workloads.fifty.dir, pages: workloads.fifty.pages };
  const starts = [];
  const warm = [];
  for (let round = 0; round < RUNS; round++) {
    starts.push(run({ id: 'limit-start', child: 'limit', config: { ...limitConfig, mode: 'start' } }).wall);
    warm.push(run({ id: 'limit-warm', child: 'limit', config: { ...limitConfig, mode: 'warm' } }).warmRender);
  }
  const limit = { start: median(starts), warmRender: median(warm) };
  limit.wall = limit.start + limit.warmRender;
  process.stdout.write(' limit;');

  const app = timeModes(modesFor('app', workloads.app), allHits);
  process.stdout.write(' large app;');
  const small = timeModes(modesFor('small', workloads.small), allHits);
  const inProcess = {};
  for (const kind of ['none', 'precompiled', 'bcc-fs', 'bcc-fs-bundle']) {
    const config = {
      mode: kind,
      templates: workloads.small.dir,
      pages: workloads.small.pages,
      precompiled: workloads.small.precompiled,
      directory: join(root, kind === 'bcc-fs-bundle' ? 'small-fs-bundle' : 'small-fs'),
    };
    const list = [];
    for (let round = 0; round < RUNS; round++)
      list.push(run({ id: `small-${kind}`, child: 'in-process', config }).inProcess);
    inProcess[kind] = median(list);
  }
  process.stdout.write(' small page;');
  const hbsBase = { templates: hbsDir, precompiled: hbsPrecompiled };
  const hbs = timeModes(
    [
      { id: 'hbs-none', kind: 'none', child: 'hbs-none', config: hbsBase },
      { id: 'hbs-precompiled', kind: 'precompiled', child: 'hbs-precompiled', config: hbsBase },
      {
        id: 'hbs-bcc-fs',
        kind: 'bcc-fs',
        child: 'hbs-bcc-fs',
        config: { ...hbsBase, directory: join(root, 'hbs-fs') },
      },
    ],
    allHits,
  );
  process.stdout.write(' handlebars;');
  /** The no-cache, precompiled and bcc + fs modes of one more engine's 50-template workload. */
  const engineModes = (engine, dir, { bundleToo = false } = {}) => {
    const base = { templates: dir, pages: pugEtaPages, precompiled: `${dir}.precompiled.cjs` };
    const modes = ['none', 'precompiled', 'bcc-fs'].map((kind) => ({
      id: `${engine}-${kind}`,
      kind,
      child: `${engine}-${kind}`,
      config: kind === 'bcc-fs' ? { ...base, directory: join(root, `${engine}-fs`) } : base,
    }));
    if (!bundleToo) return modes;
    // The working-set bundle, written by the priming runs' flush() (JavaScript, then V8's code).
    const bundle = {
      id: `${engine}-bcc-fs-bundle`,
      kind: 'bcc-fs-bundle',
      child: `${engine}-bcc-fs`,
      primeRuns: 3,
      config: { ...base, directory: join(root, `${engine}-fs-bundle`), bundle: 'bench' },
    };
    return [...modes, bundle];
  };
  const pugResult = timeModes(engineModes('pug', pugDir), allHits);
  process.stdout.write(' pug;');
  const etaResult = timeModes(engineModes('eta', etaDir, { bundleToo: true }), allHits);
  process.stdout.write(' eta;');

  // Where the time goes, for the 50-template workload.
  const phases = {};
  for (const kind of ['none', 'precompiled', 'bcc-fs', 'bcc-fs-bundle']) {
    const config = {
      templates: workloads.fifty.dir,
      pages: workloads.fifty.pages,
      templateNames: Object.keys(workloads.fifty.files),
      mode: kind,
      precompiled: workloads.fifty.precompiled,
      directory: join(root, kind === 'bcc-fs-bundle' ? 'fifty-fs-bundle' : 'fifty-fs'),
    };
    const list = [];
    for (let round = 0; round < RUNS; round++)
      list.push(run({ id: `fifty-${kind}`, child: 'phases', config }));
    phases[kind] = Object.fromEntries(
      ['start', 'nunjucks', 'setup', 'load', 'render'].map((f) => [f, median(list.map((r) => r[f]))]),
    );
  }
  process.stdout.write(' phases.\n');
  return {
    major,
    version,
    compileCache,
    fifty,
    limit,
    app,
    small,
    inProcess,
    phases,
    hbs,
    pug: pugResult,
    eta: etaResult,
  };
}

const loadBefore = loadavg()[0];
const measured = MAJORS.map(measure);
const loadAfter = loadavg()[0];
if (redis) await redis.stop();
else if (redisUrl) {
  const { RedisBytecodeCache } = await import('@bcc/redis');
  const cleanup = new RedisBytecodeCache({ url: redisUrl, prefix: `bench/${process.pid}/` });
  await cleanup.clear();
  await cleanup.close();
}

// --- report ---------------------------------------------------------------------------------
const fmt = (ms) => ms.toFixed(1);
const x = (ratio) => `${ratio.toFixed(2)}×`;
const LABELS = {
  none: 'no cache (Nunjucks compiles)',
  precompiled: 'nunjucks.precompile + PrecompiledLoader',
  'precompiled-eager': 'the same, `node --no-lazy` (V8 flag; see below)',
  'bcc-fs': 'bcc + fs, warm',
  'bcc-fs-bundle': 'bcc + fs, warm, `bundle` option',
  'bcc-redis': 'bcc + redis, warm',
  'bcc-redis-bundle': 'bcc + redis, warm, `bundle` option',
};
const HBS_LABELS = {
  none: 'no cache (Handlebars compiles)',
  precompiled: 'Handlebars.precompile specs in a module',
  'bcc-fs': '@bcc/handlebars + fs, warm',
};
const ENGINE_LABELS = {
  pug: {
    none: 'no cache (Pug compiles)',
    precompiled: 'pug.compileClient functions in a module',
    'bcc-fs': '@bcc/pug + fs, warm',
  },
  eta: {
    none: 'no cache (Eta compiles, its cache on)',
    precompiled: 'Eta compileToString functions in a module',
    'bcc-fs': '@bcc/eta + fs, warm',
    'bcc-fs-bundle': '@bcc/eta + fs, warm, `bundle` option',
  },
};
/** The table of one engine's 50-template workload. */
const engineTable = (engine, result) =>
  Object.entries(result)
    .map(
      ([kind, r]) =>
        `| ${ENGINE_LABELS[engine][kind]} | ${fmt(r.wall)} | ${x(result.none.wall / r.wall)} faster | ${x(r.wall / result.precompiled.wall)} |`,
    )
    .join('\n');
const sections = [];
for (const m of measured) {
  const pre = m.fifty.precompiled.wall;
  const fiftyRows = Object.entries(m.fifty).map(
    ([kind, r]) =>
      `| ${LABELS[kind]} | ${fmt(r.wall)} | ${fmt(r.min)}–${fmt(r.max)} | ${x(m.fifty.none.wall / r.wall)} | ${x(r.wall / pre)} | ${x(r.wall / m.limit.wall)} |`,
  );
  const appRows = Object.entries(m.app).map(
    ([kind, r]) => `| ${LABELS[kind]} | ${fmt(r.wall)} | ${x(r.wall / m.app.precompiled.wall)} |`,
  );
  const smallRows = Object.entries(m.small).map(
    ([kind, r]) =>
      `| ${LABELS[kind]} | ${fmt(r.wall)} | ${x(r.wall / m.small.precompiled.wall)} | ${fmt(m.inProcess[kind])} | ${x(m.inProcess[kind] / m.inProcess.precompiled)} |`,
  );
  const phaseRows = Object.entries(m.phases).map(
    ([kind, p]) =>
      `| ${LABELS[kind]} | ${fmt(p.start)} | ${fmt(p.nunjucks)} | ${fmt(p.setup)} | ${fmt(p.load)} | ${fmt(p.render)} |`,
  );
  const verdicts = judge(m);
  m.verdicts = verdicts;
  sections.push(`## Node ${m.version}${m.compileCache ? ', `NODE_COMPILE_CACHE` on for every mode' : ' (no compile cache in Node 20)'}

**50 templates, 40 pages** (wall ms, medians of ${RUNS} fresh processes). The limit is ${fmt(m.limit.wall)} ms:
starting Node and importing Nunjucks (${fmt(m.limit.start)} ms, process exit included) plus rendering the
same pages in a warm process (${fmt(m.limit.warmRender)} ms).

| mode | wall ms | min–max | vs no cache | vs precompiled | vs the limit |
|---|---:|---:|---:|---:|---:|
${fiftyRows.join('\n')}

**Large app: 500 templates, a process renders 5 pages** (the precompiled module holds all 500):

| mode | wall ms | vs precompiled |
|---|---:|---:|
${appRows.join('\n')}

**One small page** (extends + import + macros, 3 templates): whole process, and in-process from
Nunjucks imported to the page rendered (set-up included: importing bcc, or requiring the
precompiled module):

| mode | wall ms | vs precompiled | in-process ms | vs precompiled |
|---|---:|---:|---:|---:|
${smallRows.join('\n')}

**Handlebars: 50 templates** (a layout, 9 partials, 40 pages, with helpers), rendered as
express-handlebars does (page, then the layout around it):

| mode | wall ms | vs no cache | vs precompiled |
|---|---:|---:|---:|
${Object.entries(m.hbs)
  .map(
    ([kind, r]) =>
      `| ${HBS_LABELS[kind]} | ${fmt(r.wall)} | ${x(m.hbs.none.wall / r.wall)} faster | ${x(r.wall / m.hbs.precompiled.wall)} |`,
  )
  .join('\n')}

**Pug: 50 templates** (a layout, 9 included files and mixins, 40 pages; Pug inlines what a page
extends and includes, so each page is one compiled function):

| mode | wall ms | vs no cache | vs precompiled |
|---|---:|---:|---:|
${engineTable('pug', m.pug)}

**Eta: 50 templates** (a layout, 9 partials, 40 pages; Eta compiles each file on its own):

| mode | wall ms | vs no cache | vs precompiled |
|---|---:|---:|---:|
${engineTable('eta', m.eta)}

**Where the time goes** (50 templates, ms, medians; templates loaded with \`getTemplate(name, true)\`):

| mode | node start | import nunjucks | set-up | load 50 templates | render 40 pages |
|---|---:|---:|---:|---:|---:|
${phaseRows.join('\n')}

**Targets** (met or not, by how much; the ratio of medians, then the middle half of the same
ratio taken round by round, which shows how much one run's verdict can move on this machine):

${verdicts.map((v) => `- ${v.text}`).join('\n')}

**Why** (from this run's phases):

${explain(m)
  .map((line) => `- ${line}`)
  .join('\n')}
`);
  console.log(`\n${sections.at(-1)}`);
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
const chart = renderChart(measured, LABELS);
const markdown = `# Performance

Measured by \`pnpm bench\` (\`bench/run.mjs\`), ${new Date().toISOString().slice(0, 10)}, on ${cpu}
(${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB), Nunjucks 3.2.4, Handlebars 4.7.10, Pug 3.0.4, Eta 4.6.0, Node ${measured.map((m) => m.version).join(', ')}
(binaries from the npm registry). Load average ${loadBefore.toFixed(2)} before the runs and ${loadAfter.toFixed(2)} after.

Each run is a **fresh Node process** (\`bench/children/\`) that imports Nunjucks (and bcc where used),
makes an environment and renders pages through the callback API; output is checked to be identical
in every mode. **Wall time** is from spawning the process to its exit, as a forked worker or a
cold start sees it. On Node 22 and 24 every mode runs with \`NODE_COMPILE_CACHE\` (a directory per
mode, primed), which is what a well-informed team has. ${RUNS} runs per mode, interleaved round by
round; medians. Warm bcc modes are primed: a cold process compiles and stores, the next one adds
V8's code cache taken after the first render. The timed children load nothing but what their
mode needs: the output check (a SHA-256 of the pages) runs only in the priming runs, because
importing \`node:crypto\` for it (~5 ms on Node 24) would be paid by every mode and hide what a
mode's own imports cost. bcc hashes a small page's templates without it (a WebAssembly SHA-256)
and imports it past 16 KiB of hashed sources. An app that loads it anyway (Express and Fastify
do, at start) pays that import whichever mode it uses; then bcc hashes with it from the start.

![wall time per mode and Node version, 50 templates](performance.svg)

${sections.join('\n')}
## Modes

- **no cache**: \`FileSystemLoader\`; Nunjucks lexes, parses and generates JavaScript for every
  template, and V8 compiles it.
- **precompiled**: Nunjucks' ahead-of-time path: every template precompiled at build time into one
  CommonJS module (\`bench/precompile.mjs\`), required at start; no source is read, but V8 compiles
  all of that JavaScript in every process (Node's compile cache keeps only what V8 compiled
  eagerly, and template functions run later are compiled lazily).
- **precompiled, \`node --no-lazy\`** (Node 22 and later, 50 templates only): the same module, with
  V8's \`--no-lazy\` flag, which compiles every function when its module is compiled. Node's compile
  cache then holds all of the template functions and Nunjucks' runtime, which it never does
  otherwise. Not a target's baseline: a developer flag of V8 that also compiles every function of
  every other module eagerly (more start-up work without a primed compile cache, more memory), but
  the strongest build-step variant found, so it is measured.
- **bcc + fs, warm**: \`useBytecodeCache(env, new FileSystemBytecodeCache({ directory }))\`; the loader
  reads each template's source (its checksum validates the entry); the entry gives the JavaScript
  and V8's code cache, so neither Nunjucks nor V8 compiles anything, and only the templates a
  process renders are loaded.
- **bcc + fs, warm, \`bundle\` option**: the same, with \`{ bundle: 'bench' }\`: the templates
  come from one working-set entry (one read, one script, one V8 code cache), written by the
  priming runs' \`flush()\` (a cold process stores the JavaScript, the next adds V8's code cache).
- **bcc + redis, warm, \`bundle\` option**: the same with a working-set bundle: one read from
  Redis for the 50 templates instead of one round trip per template.
- **bcc + redis, warm**: the same entries from a local \`redis-server\`, an asynchronous store (each
  render fetches the page and what it names, level by level, skipping what Nunjucks already holds);
  reads go over the cache's own connection, so a warm process never imports ioredis.
- **the limit**: what is left when templates cost nothing: start Node, import Nunjucks, exit, plus
  the render of the same pages in a process that has rendered them before.
${redisNote ? `\n${redisNote}\n` : ''}
## Tried, measured, and where the remaining time is

- **Where a warm bcc process spends its load phase** (Node 24, 50 templates, \`node:crypto\` already
  loaded, ~21 ms; instrumented, 5 runs, 2026-11-29, before the WebAssembly digest): Nunjucks' own \`getSource\` reading each file 2.1–2.7 ms;
  entry keys and source checksums 1.5 ms; the directory check before each read 0.45 ms; reading
  the 50 entries 2.4 ms; decoding them 4.4 ms (1.5 ms of it the first one: importing \`node:zlib\`
  and probing the runtime tag; CRC32 over 2.3 MB ~0.5 ms); V8 deserialising 1.35 MB of code cache
  and running the 50 scripts 5.5 ms; Nunjucks' \`Template\` objects and bcc's loader the rest. The
  precompiled path loads in 0.6 ms because its module is one script: its cost moves to the render
  phase, where V8 compiles every template function. Per template, bcc's own work is ~0.2 ms of
  JavaScript that runs cold (V8 has not optimised it yet, and compiles it lazily in every process:
  ~2–3 ms per process, seen with \`--log-function-events\`).
- **Node's compile cache and lazily compiled functions** (measured on Node 22.23, 24.22 and 26.12):
  a module holding one 20,000-line function loads from the cache in ~1.9 ms, but its first call
  still spends ~26 ms compiling, also after \`module.flushCompileCache()\` was called once the
  function had run: the cache is made when the module compiles, and never holds a function V8
  compiled later. A \`//# allFunctionsCalledOnLoad\` comment changes nothing (Node does not ask V8
  to follow it). Wrapping the function in parentheses (V8 compiles such functions eagerly) puts
  it in the cache: load 4.7 ms, first call 0.08 ms. This is why Nunjucks' runtime is compiled
  again in every fresh process (~5 ms of bcc's render phase: \`--no-lazy\` took bcc's render
  from 42 to 37 ms), and why caching it is not open to bcc without rewriting Nunjucks' files as
  they load. bcc's own code is mostly class methods, which V8 compiles lazily.
- **Node's \`--no-lazy\` makes the build step as fast as bcc without a bundle** (Node 24, compile cache on, 11
  interleaved runs): precompiled 151.2 ms, precompiled with \`--no-lazy\` 131.3 ms, bcc + fs
  132.5 ms, bcc + fs with \`--no-lazy\` 147.8 ms (every template's code cache then holds every
  function, so deserialising them took the load phase from 25 to 35 ms). The eagerly compiled
  module is one script whose code all comes from Node's cache, with no per-template work: what
  led to bcc's working-set bundles (next). The bench measures this mode on Node 22 and 24
  (above).
- **Working-set bundles** (\`bundle\` option of \`@bcc/nunjucks\`, measured above as its own
  mode). A prototype first: all 50 templates' JavaScript as one array script with one V8 code
  cache, read from one file, each source still read and hashed, without bcc's packages took
  118.9 ms against 154.1 ms for the precompiled module (0.77×) and 144.3 ms for bcc + fs in the
  same 13 interleaved rounds on Node 24. The first version of the option (one frame whose
  dependencies were the members, all read and hashed when it was read; members served only while
  their source still had its checksum) measured 132.4 ms (0.86×) in those rounds. The second
  (2026-11-30) lists each member with its file's stamp and checks it when served: a source that
  Nunjucks' \`FileSystemLoader\` read from a file whose stamp is unchanged is neither read again
  nor hashed, so a process rendering 50 templates from a bundle no longer imports \`node:crypto\`:
  105.5 ms against 110.8 ms for the first version (15 interleaved rounds, Node 24, precompiled
  128 ms). From Redis the same holds once templates read ahead of a render are matched by their
  text rather than hashed again and each key is hashed once per process: 131.0 → 121.0 ms
  (11 interleaved rounds, Node 24, precompiled 130.5 ms). What is left over the prototype is
  bcc's own set-up (importing its three packages, ~4.5 ms) and its per-template bookkeeping.
- **Why the large-app and small-page targets stay out of reach.** Against the precompiled path
  on Node 24 bcc would need ~15 ms less on the large app (0.50×) and ~10 ms less on a small page
  (1.0×). What is bcc's to remove there is smaller: importing its three packages (~4.5 ms: ~2 ms
  of package resolution, ~1 ms per module even from the compile cache, against ~0.45 ms for an
  empty module), its own lazily compiled code (~2–3 ms) and a few templates' loading, which a
  bundle shortens little (\`node:crypto\` and \`node:zlib\` are no longer among them for a small
  page: see the next item but one). The rest is Node's and V8's per process:
  starting, importing Nunjucks, deserialising code, compiling Nunjucks' runtime, and running
  every template function cold for the first time.
- **Imported macro files** (fixed): the V8 code cache of a template loaded by \`{% import %}\` or
  \`{% from … import %}\` was taken when that file's own \`root\` finished, which only defines the
  macros, so every macro body was compiled again in each process (18 template functions per
  warm process here). It is now taken after the outermost render that ran it (5 left: macros a
  later page calls first).
- Importing \`node:crypto\` costs a fresh process 5.0–6.1 ms on Node 24 and 2.5–2.8 ms on Node 20
  (it loads Node's whole streams stack), and \`node:zlib\` 0.8–1.4 ms (0.45–0.5 ms), measured with
  \`process.getBuiltinModule\` in a script (not \`node -e\`, which has crypto loaded already). bcc
  needs SHA-256 (entry keys, source checksums, the environment fingerprint) and CRC32 (every
  frame). In JavaScript both lost to the import: cold JavaScript hashed 865 bytes in 0.75 ms and
  checked a 20 KB frame in 1–2.7 ms; a 128-bit non-cryptographic hash over 50 template sources
  (~120 KB) took 3.4–5.8 ms cold on Node 24. In WebAssembly (2026-11-30,
  \`packages/core/src/wasm-module.ts\`) they win for small inputs: compiling and starting the
  module takes ~0.4 ms and V8's baseline compiler runs SHA-256 at ~24 ns a byte (40 MB/s; ~6× that
  once V8 has optimised it in the background) and CRC32 at ~1 GB/s. So bcc hashes the first
  16 KiB of text and checks the first 512 KiB of frames there, then imports Node's modules, and
  uses them from the start when the app already loaded them (Express and Fastify load
  \`node:crypto\`). A small page's process now imports neither: in-process load and render 17.2 →
  12.9 ms on Node 24 (medians of two 7-round runs). A larger budget bought nothing: 50 templates' sources
  (200 KB) took ~5 ms in WebAssembly, what the import costs. CRC32 stays: V8 checks a code cache's
  header but, in release builds, not its payload, so the frame's checksum is what keeps a damaged
  cache from V8.
- Pug: \`createPugRenderer\` serves compiled templates without importing Pug's compiler at all,
  which took bcc from about 2.3× Pug's precompiled functions (the compiler imported only to hook
  it) to level with them. The same idea for Nunjucks was tried and dropped: Nunjucks' runtime-only
  build (\`nunjucks/browser/nunjucks-slim.js\`, in the same package) loads in 2–3 ms against 7–10 ms
  for the whole package on Node 24, and an environment of it rendered the 50-template site
  byte for byte from bcc's entries without loading the compiler. But it is a browser bundle: its
  \`asap\` falls back to \`setTimeout(0)\` in Node, so every \`render(name, ctx, cb)\` callback came
  a timer later than with Nunjucks (\`setImmediate\`): the 40 pages took longer in all (1.07× the
  precompiled path, against 0.90× for bcc with the full package), and callback timing would not
  be Nunjucks' own.
- Redis: requiring ioredis takes 40–55 ms on Node 24 with the compile cache on (60 modules; its
  \`Script\` module alone loads \`node:crypto\`), more than the whole template work of the
  precompiled path. A cache made from a plain \`redis://\` URL reads over a RESP connection of its
  own (\`GETRANGE\`, AUTH, SELECT; \`packages/redis/src/resp-reader.ts\`) and loads ioredis only for
  its first write, so a warm process never imports it (was 1.33× precompiled on Node 24, 62 ms
  over bcc + fs). A render also no longer re-reads and re-hashes the source of every template of
  its page that Nunjucks already holds compiled. What is left over bcc + fs (~13–17 ms) is spread
  over the asynchronous path (promises, the socket, waiting ~4–5 ms for replies, one round trip
  per level of each page's closure); remembering source checksums across the async path's four
  hashing points was tried and measured no different.
`;
if (WRITE) {
  const docs = join(here, '..', 'docs');
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, 'performance.md'), markdown);
  writeFileSync(join(docs, 'performance.svg'), chart);
  console.log(`\nwrote ${join(docs, 'performance.md')} and performance.svg`);
}
