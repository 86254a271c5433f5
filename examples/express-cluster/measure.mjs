// Starts the cluster three times — without a cache, with an empty bcc cache (cold) and with
// the cache the cold run filled (warm) — requests every page once per worker, and prints each
// worker's first-request latency. `--check` (the package's test) uses two workers and exits
// non-zero unless every mode serves the same pages and the warm workers compiled nothing.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBytecodeCache, redactCacheUrl } from '@bcc/core';
import { pages } from './data.mjs';

const check = process.argv.includes('--check');
const workers = Number(process.env.WORKERS ?? (check ? 2 : 3));
const cacheDir = mkdtempSync(join(tmpdir(), 'bcc-express-cluster-'));

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });

/** Starts server.mjs and resolves once every worker listens. */
async function startCluster(cache) {
  const port = await freePort();
  const child = spawn(process.execPath, [new URL('./server.mjs', import.meta.url).pathname], {
    env: { ...process.env, PORT: String(port), WORKERS: String(workers), BCC_CACHE: cache },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the cluster did not start within 20 s')), 20_000);
    let buffer = '';
    child.stdout.on('data', (chunk) => {
      buffer += chunk;
      if (buffer.includes('"ready":true')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the cluster exited early (${code})`));
    });
  });
  const stop = () =>
    new Promise((resolve) => {
      child.once('exit', resolve);
      child.kill('SIGTERM');
    });
  return { port, stop };
}

/** One GET on a new connection, so round-robin hands it to the next worker. */
function get(port, path) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request(
      { host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          body += chunk;
        });
        res.on('end', () => {
          if (res.statusCode !== 200)
            return reject(new Error(`GET ${path}: HTTP ${res.statusCode}\n${body}`));
          resolve({
            latency: performance.now() - started,
            worker: res.headers['x-worker'],
            server: Number(/dur=([\d.]+)/.exec(res.headers['server-timing'] ?? '')?.[1] ?? Number.NaN),
            compiled: res.headers['x-bcc-compiled'],
            body,
          });
        });
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** Requests each page until every worker has served it once; returns the first response of each (worker, page). */
async function firstRequests(port) {
  const first = new Map();
  for (const page of pages) {
    const path = page === 'home' ? '/' : `/${page}`;
    for (let attempt = 0; attempt < workers * 4; attempt++) {
      const response = await get(port, path);
      const key = `${response.worker}\0${page}`;
      if (!first.has(key)) first.set(key, { page, ...response });
      if ([...first.values()].filter((r) => r.page === page).length === workers) break;
    }
  }
  return [...first.values()];
}

// BCC_CACHE picks the store for the bcc runs (default: a throwaway directory); it is cleared
// before the cold run.
const store = process.env.BCC_CACHE?.trim() || `file://${cacheDir}`;
const storeName = store.startsWith('file:') ? 'fs' : redactCacheUrl(store.split(',')[0]).split(':')[0];
const modes = [
  { label: 'no cache', cache: 'none' },
  { label: `bcc ${storeName}, cold`, cache: store, before: clearStore },
  { label: `bcc ${storeName}, warm`, cache: store },
];

async function clearStore() {
  const cache = await createBytecodeCache(store);
  await cache.clear();
  await cache.close();
}
const results = [];
try {
  for (const mode of modes) {
    await mode.before?.();
    const cluster = await startCluster(mode.cache);
    try {
      results.push({ ...mode, responses: await firstRequests(cluster.port) });
    } finally {
      await cluster.stop();
    }
  }
} finally {
  rmSync(cacheDir, { recursive: true, force: true });
}

const sum = (list) => list.reduce((a, b) => a + b, 0);
console.log(
  `${workers} workers, ${pages.length} pages; latency of each worker's first request for every page (ms)\n`,
);
const header = ['mode', 'worker', 'very first request', 'all pages (sum)', 'server render (sum)'];
const rows = [];
for (const result of results) {
  const byWorker = Map.groupBy ? Map.groupBy(result.responses, (r) => r.worker) : groupBy(result.responses);
  for (const [worker, list] of [...byWorker].sort()) {
    rows.push([
      result.label,
      worker,
      list[0].latency.toFixed(1),
      sum(list.map((r) => r.latency)).toFixed(1),
      sum(list.map((r) => r.server)).toFixed(1),
    ]);
  }
}
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
for (const row of [header, ...rows]) console.log(row.map((c, i) => String(c).padEnd(widths[i])).join('  '));

function groupBy(list) {
  const map = new Map();
  for (const item of list) map.set(item.worker, [...(map.get(item.worker) ?? []), item]);
  return map;
}

// What the check (and any reader) relies on.
const failures = [];
const [plain, cold, warm] = results;
for (const result of results) {
  const pairs = result.responses.length;
  if (pairs !== workers * pages.length)
    failures.push(`${result.label}: ${pairs} of ${workers * pages.length} (worker, page) pairs served`);
}
const bodies = (result) => new Map(result.responses.map((r) => [`${r.worker}\0${r.page}`, r.body]));
for (const result of [cold, warm]) {
  for (const [key, body] of bodies(result)) {
    if (bodies(plain).get(key) !== body)
      failures.push(`${result.label}: ${key.replace('\0', ' ')} differs from the page without cache`);
  }
}
if (warm.responses.some((r) => r.compiled !== '0'))
  failures.push('bcc fs, warm: a worker compiled templates');
if (!cold.responses.some((r) => Number(r.compiled) > 0)) failures.push('bcc fs, cold: nothing was compiled');
const total = (result) => sum(result.responses.map((r) => r.server));
console.log(
  `\nserver-side load+render time of all first requests: no cache ${total(plain).toFixed(1)} ms, bcc cold ${total(cold).toFixed(1)} ms, bcc warm ${total(warm).toFixed(1)} ms (${(total(plain) / total(warm)).toFixed(1)}× less than no cache)`,
);
if (failures.length > 0) {
  console.error(`\nFAILED:\n- ${failures.join('\n- ')}`);
  process.exit(1);
}
if (check) console.log('\ncheck passed: same pages in every mode, warm workers compiled nothing');
