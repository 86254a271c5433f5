// The `bcc` command as operators run it: a real process (bin/bcc.mjs) against a filesystem cache,
// a real redis-server and a real memcached, warming real engines.
import { spawn } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startMemcached, startRedis, type TestServer } from '@bcc/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '..', 'bin', 'bcc.mjs');
const here = join(import.meta.dirname, '..');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bcc args…` in `cwd` with `env` added; resolves when it exits (or fails after 30 s). */
function bcc(args: string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    // Not a terminal, so no colour; FORCE_COLOR (set by some runners) would override that, and
    // Node 22+ warns when NO_COLOR and FORCE_COLOR are both set.
    const {
      BCC_CACHE: _cache,
      BCC_SECRET: _secret,
      FORCE_COLOR: _force,
      NO_COLOR: _no,
      ...inherited
    } = process.env;
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: options.cwd ?? here,
      env: { ...inherited, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bcc ${args.join(' ')} hung\n${stdout}\n${stderr}`));
    }, 30_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const json = <T>(run: Run): T => {
  expect(run.stderr).toBe('');
  return JSON.parse(run.stdout) as T;
};

const dirs: string[] = [];
const scratch = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};

/** A Nunjucks app: views with a layout, two pages and one that does not compile, and the module `bcc warm` loads. */
function nunjucksApp(options: { broken?: boolean } = {}) {
  const dir = scratch('bcc-cli-app-');
  const views = join(dir, 'views');
  for (const [name, text] of [
    ['layout.html', '<html>{% block body %}{% endblock %}</html>'],
    ['pages/a.html', '{% extends "layout.html" %}{% block body %}A {{ name }}{% endblock %}'],
    ['pages/b.html', '{% extends "layout.html" %}{% block body %}B {{ name }}{% endblock %}'],
    ...(options.broken ? [['pages/broken.html', '{% if %}']] : []),
  ] as const) {
    const file = join(views, name);
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(file, text);
  }
  const module = join(dir, 'app.mjs');
  // The app's module resolves nunjucks as an app would; here, from this package's dependencies.
  writeFileSync(
    module,
    `import { createRequire } from 'node:module';
const nunjucks = createRequire(${JSON.stringify(join(here, 'package.json'))})('nunjucks');
export default new nunjucks.Environment(new nunjucks.FileSystemLoader(${JSON.stringify(views)}));
`,
  );
  return { dir, views, module };
}

afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('bcc with a filesystem cache', () => {
  it('warm compiles every template (exit 1 naming the one that fails), and a second warm finds them valid', async () => {
    const app = nunjucksApp({ broken: true });
    const cache = `file://${join(app.dir, 'cache')}`;
    const first = await bcc(['--cache', cache, 'warm', app.module]);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/compiled +pages\/a\.html/);
    expect(first.stdout).toMatch(/failed +pages\/broken\.html: [\s\S]*unexpected token/);
    expect(first.stdout).toContain('Nunjucks: 4 templates, 3 compiled, 0 already valid, 1 failed');
    rmSync(join(app.views, 'pages/broken.html'));
    const second = json<{ compiled: number; alreadyValid: number; failed: unknown[] }>(
      await bcc(['--cache', cache, '--json', 'warm', app.module]),
    );
    expect(second).toMatchObject({ compiled: 0, alreadyValid: 3, failed: [] });
  });

  it('ls lists each entry with its template, engine and runtime; BCC_CACHE works as --cache', async () => {
    const app = nunjucksApp();
    const env = { BCC_CACHE: `file://${join(app.dir, 'cache')}` };
    expect((await bcc(['warm', app.module], { env })).code).toBe(0);
    const rows = json<{ name: string; engine: string; state: string; signed: boolean; runtime: string }[]>(
      await bcc(['--json', 'ls', '--sort', 'name'], { env }),
    );
    expect(rows.map((row) => row.name)).toEqual(
      ['layout.html', 'pages/a.html', 'pages/b.html'].map((name) => join(app.views, name)),
    );
    for (const row of rows) {
      expect(row).toMatchObject({
        engine: expect.stringMatching(/^nunjucks@3\./),
        state: 'valid',
        signed: false,
      });
      expect(row.runtime).toContain(process.version);
    }
    const text = await bcc(['ls', '--name', 'pages/'], { env });
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^KEY +NAME +ENGINE/);
    expect(text.stdout).toContain('2 entries');
    expect((await bcc(['ls', '--sort', 'colour'], { env })).code).toBe(2);
  });

  it('inspect gives the header and the verdict: hit, then the rule that refuses it once the template changed', async () => {
    const app = nunjucksApp();
    const cache = `file://${join(app.dir, 'cache')}`;
    await bcc(['--cache', cache, 'warm', app.module]);
    const hit = await bcc(['--cache', cache, 'inspect', 'pages/a.html']);
    expect(hit.code).toBe(0);
    expect(hit.stdout).toMatch(/template +.*pages\/a\.html/);
    expect(hit.stdout).toMatch(/engine +nunjucks@/);
    expect(hit.stdout).toMatch(/verdict +hit/);
    writeFileSync(join(app.views, 'pages/a.html'), 'edited {{ name }}');
    const miss = await bcc(['--cache', cache, '--json', 'inspect', join(app.views, 'pages/a.html')]);
    expect(miss.code).toBe(1);
    const [entry] = JSON.parse(miss.stdout) as { verdict: { hit: boolean; outcome: string }; key: string }[];
    expect(entry!.verdict).toMatchObject({ hit: false, outcome: 'checksum' });
    // By key, as `ls` shows it.
    expect((await bcc(['--cache', cache, 'inspect', entry!.key])).stdout).toContain(entry!.key);
    expect((await bcc(['--cache', cache, 'inspect', 'no/such/template.html'])).code).toBe(1);
  });

  it('verify counts corrupt, foreign and unsigned entries (exit 1), --delete removes them, then all is valid', async () => {
    const app = nunjucksApp();
    const dir = join(app.dir, 'cache');
    const cache = `file://${dir}`;
    await bcc(['--cache', cache, 'warm', app.module]);
    const files = readdirSync(dir)
      .filter((name) => name.endsWith('.cache'))
      .sort();
    expect(files).toHaveLength(3);
    // One entry torn, one copied over another's name.
    const torn = join(dir, files[0]!);
    writeFileSync(torn, readFileSync(torn).subarray(0, 100));
    writeFileSync(join(dir, files[1]!), readFileSync(join(dir, files[2]!)));
    const report = json<{ counts: Record<string, number>; bad: { state: string }[] }>(
      await bcc(['--cache', cache, '--json', 'verify']).then((run) => {
        expect(run.code).toBe(1);
        return run;
      }),
    );
    expect(report.counts).toMatchObject({ valid: 1, corrupt: 1, 'foreign-key': 1 });
    // With a secret set, the unsigned entries are flagged too.
    const signed = await bcc(['--cache', cache, 'verify'], { env: { BCC_SECRET: 'a secret for this test' } });
    expect(signed.stdout).toMatch(/1 unsigned/);
    const deleted = await bcc(['--cache', cache, 'verify', '--delete']);
    expect(deleted.code).toBe(1);
    expect(deleted.stdout).toContain('2 deleted');
    const after = await bcc(['--cache', cache, 'verify']);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('1 entries: 1 valid');
  });

  it('prune removes the oldest beyond --max-age and --max-size; --dry-run removes nothing', async () => {
    const app = nunjucksApp();
    const dir = join(app.dir, 'cache');
    const cache = `file://${dir}`;
    await bcc(['--cache', cache, 'warm', app.module]);
    const files = readdirSync(dir).filter((name) => name.endsWith('.cache'));
    const old = new Date(Date.now() - 40 * 86_400_000);
    utimesSync(join(dir, files[0]!), old, old);
    const dry = json<{ stores: { removed: number }[] }>(
      await bcc(['--cache', cache, '--json', 'prune', '--max-age', '30d', '--dry-run']),
    );
    expect(dry.stores[0]!.removed).toBe(1);
    expect(readdirSync(dir).filter((name) => name.endsWith('.cache'))).toHaveLength(3);
    const run = await bcc(['--cache', cache, 'prune', '--max-age', '30d', '--max-size', '1']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/removed 3 of 3 entries/);
    expect((await bcc(['--cache', cache, 'prune'])).code).toBe(2);
    expect((await bcc(['--cache', cache, 'prune', '--max-age', 'soon'])).code).toBe(2);
  });

  it('clear asks for --yes without a terminal, then removes only this cache; stats counts per store', async () => {
    const app = nunjucksApp();
    const cache = `file://${join(app.dir, 'cache')}`;
    await bcc(['--cache', cache, 'warm', app.module]);
    writeFileSync(join(app.dir, 'cache', 'not-an-entry.txt'), 'keep me');
    const refused = await bcc(['--cache', cache, 'clear']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes');
    const stats = json<{ stores: { entries: number }[] }>(await bcc(['--cache', cache, '--json', 'stats']));
    expect(stats.stores[0]!.entries).toBe(3);
    expect((await bcc(['--cache', cache, 'clear', '--yes'])).code).toBe(0);
    expect(
      json<{ stores: { entries: number }[] }>(await bcc(['--cache', cache, '--json', 'stats'])).stores[0]!
        .entries,
    ).toBe(0);
    expect(readdirSync(join(app.dir, 'cache'))).toEqual(['not-an-entry.txt']);
  });

  it('warms Pug, Handlebars and Eta apps too (views from --views or the engine), and says what it needs', async () => {
    const dir = scratch('bcc-cli-engines-');
    const views = join(dir, 'views');
    mkdirSync(views, { recursive: true });
    writeFileSync(join(views, 'page.pug'), 'p Hello #{name}');
    writeFileSync(join(views, 'card.hbs'), '<b>{{name}}</b>');
    writeFileSync(join(views, 'row.eta'), '<i><%= it.name %></i>');
    const from = JSON.stringify(join(here, 'package.json'));
    const modules = {
      pug: `import { createRequire } from 'node:module';\nexport default createRequire(${from})('pug');\nexport const views = ${JSON.stringify(views)};`,
      hbs: `import { createRequire } from 'node:module';\nexport default createRequire(${from})('handlebars').create();`,
      eta: `import { createRequire } from 'node:module';\nconst { Eta } = createRequire(${from})('eta');\nexport const environment = new Eta({ views: ${JSON.stringify(views)} });`,
    };
    for (const [name, text] of Object.entries(modules)) writeFileSync(join(dir, `${name}.mjs`), text);
    const cache = `file://${join(dir, 'cache')}`;
    const pug = json<{ engine: string; compiled: number }>(
      await bcc(['--cache', cache, '--json', 'warm', join(dir, 'pug.mjs')]),
    );
    expect(pug).toMatchObject({ engine: 'Pug', compiled: 1 });
    const noViews = await bcc(['--cache', cache, 'warm', join(dir, 'hbs.mjs')]);
    expect(noViews.code).toBe(2);
    expect(noViews.stderr).toContain('--views');
    const hbs = json<{ compiled: number }>(
      await bcc(['--cache', cache, '--json', 'warm', join(dir, 'hbs.mjs'), '--views', views]),
    );
    expect(hbs.compiled).toBe(1);
    const eta = json<{ engine: string; compiled: number }>(
      await bcc(['--cache', cache, '--json', 'warm', join(dir, 'eta.mjs')]),
    );
    expect(eta).toMatchObject({ engine: 'Eta', compiled: 1 });
    const rows = json<{ engine: string }[]>(
      await bcc(['--cache', cache, '--json', 'ls', '--sort', 'engine']),
    );
    expect(rows.map((row) => row.engine.split('@')[0])).toEqual(['eta', 'handlebars', 'pug']);
    writeFileSync(join(dir, 'other.mjs'), 'export default { render() {} };');
    const unknown = await bcc(['--cache', cache, 'warm', join(dir, 'other.mjs')]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Nunjucks Environment');
  });

  it('usage and configuration errors exit 2 and never print a password', async () => {
    const none = await bcc(['ls']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--cache');
    expect((await bcc(['frobnicate'])).code).toBe(2);
    expect((await bcc(['--cache', 'none', 'ls'])).code).toBe(2);
    expect((await bcc(['--cache', 'nosuch://x', 'ls'])).code).toBe(2);
    const help = await bcc(['--help']);
    expect(help.code).toBe(0);
    for (const command of ['warm', 'ls', 'inspect', 'verify', 'prune', 'clear', 'stats'])
      expect(help.stdout).toContain(command);
    const down = await bcc(['--cache', 'redis://:hunter2-secret@127.0.0.1:1/0', 'ls']);
    expect(down.code).toBe(1);
    expect(down.stderr).toContain('127.0.0.1:1');
    expect(`${down.stdout}${down.stderr}`).not.toContain('hunter2-secret');
  });
});

describe('bcc with Redis and memcached', () => {
  let redis: TestServer;
  let memcached: TestServer;
  beforeAll(async () => {
    [redis, memcached] = await Promise.all([startRedis(), startMemcached()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([redis?.stop(), memcached?.stop()]);
  });

  it('warm, ls, inspect, verify, prune, stats and clear against a real redis-server', async () => {
    const app = nunjucksApp();
    const cache = `${redis.url}/0?prefix=cli-test/`;
    expect((await bcc(['--cache', cache, 'warm', app.module])).code).toBe(0);
    const rows = json<{ name: string; store: string }[]>(await bcc(['--cache', cache, '--json', 'ls']));
    expect(rows).toHaveLength(3);
    expect(rows[0]!.store).toContain('prefix cli-test/');
    expect((await bcc(['--cache', cache, 'inspect', 'pages/b.html'])).code).toBe(0);
    expect((await bcc(['--cache', cache, 'verify'])).code).toBe(0);
    // Redis keeps no write time: prune ages entries by the time in their headers.
    const pruned = json<{ stores: { removed: number }[] }>(
      await bcc(['--cache', cache, '--json', 'prune', '--max-size', '1']),
    );
    expect(pruned.stores[0]!.removed).toBe(3);
    expect(
      json<{ stores: { entries: number }[] }>(await bcc(['--cache', cache, '--json', 'stats'])).stores[0]!
        .entries,
    ).toBe(0);
    await bcc(['--cache', cache, 'warm', app.module]);
    expect((await bcc(['--cache', cache, 'clear', '--yes'])).code).toBe(0);
    expect(json<unknown[]>(await bcc(['--cache', cache, '--json', 'ls']))).toEqual([]);
  });

  it('a tiered cache is listed per tier; memcached says it cannot list, and warm still fills it', async () => {
    const app = nunjucksApp();
    const tiered = `file://${join(app.dir, 'cache')},${redis.url}/0?prefix=cli-tiered/`;
    await bcc(['--cache', tiered, 'warm', app.module]);
    const stats = json<{ stores: { store: string; entries: number }[] }>(
      await bcc(['--cache', tiered, '--json', 'stats']),
    );
    expect(stats.stores.map((s) => s.entries)).toEqual([3, 3]);
    const mc = `memcached://${memcached.host}:${memcached.port}?prefix=cli/`;
    const ls = await bcc(['--cache', mc, 'ls']);
    expect(ls.code).toBe(2);
    expect(ls.stderr).toContain('cannot list its entries');
    expect((await bcc(['--cache', mc, '--json', 'warm', app.module])).code).toBe(0);
    const statsMc = json<{ stores: { entries: number | null }[] }>(
      await bcc(['--cache', mc, '--json', 'stats']),
    );
    expect(statsMc.stores[0]!.entries).toBeNull();
  });
});

describe('bcc and hostile entries', () => {
  it('a planted entry with escape sequences in its name and an impossible date is printed safely', async () => {
    const dir = scratch('bcc-cli-hostile-');
    const { FileSystemBytecodeCache } = await import('@bcc/fs');
    const { encodeFrame, runtimeTag } = await import('@bcc/core');
    const cache = new FileSystemBytecodeCache({ directory: dir });
    const key = cache.getCacheKey('evil', null, 'f');
    const frame = encodeFrame(
      {
        checksum: 'c',
        runtime: runtimeTag(),
        js: '1',
        name: 'evil\u001b[2J\u001b]0;owned\u0007.html',
        created: Number.NaN,
      },
      { key },
    );
    writeFileSync(cache.pathOf(key), frame);
    const text = await bcc(['--cache', `file://${dir}`, 'ls']);
    expect(text.code).toBe(0);
    expect(text.stdout).not.toContain('\u001b');
    expect(text.stdout).toContain('evil?[2J?]0;owned?.html');
    const inspected = await bcc(['--cache', `file://${dir}`, 'inspect', key]);
    expect(inspected.stdout).not.toContain('\u001b');
    expect(inspected.stdout).toContain('1970-01-01T00:00:00.000Z');
    const rows = json<{ name: string; created: string }[]>(
      await bcc(['--cache', `file://${dir}`, '--json', 'ls']),
    );
    expect(rows[0]!.name).toBe('evil\u001b[2J\u001b]0;owned\u0007.html');
    expect(rows[0]!.created).toBe('1970-01-01T00:00:00.000Z');
  });
});
