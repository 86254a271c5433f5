#!/usr/bin/env node
/**
 * Chaos against the local servers: four worker processes render continuously through one cache
 * per store (redis, memcached, s3rver) while this script kills each server with SIGKILL and
 * restarts it, several times. Reports renders attempted and failed (target 0 failed), the
 * slowest cache call per store (bounded by the adapter's timeout), and, for every restart,
 * how long until workers hit that store again.
 *
 *   node chaos.mjs [--rounds 3] [--down 2500] [--workers 4] [--stores redis,memcached,s3] [--no-tiered] [--no-sick]
 *
 * Afterwards (unless `--no-sick`), memcached and Redis servers of its own are killed five times
 * each in the middle of a 512 KB reply and restarted, and a 64 MB value is planted at a bcc key:
 * it reports how soon the same cache instance hits again and what the huge value cost.
 *
 * Each worker renders through one cache per store and, unless `--no-tiered`, through a
 * TieredBytecodeCache over all of them (reported as `tiered`).
 *
 * Servers run on loopback ports and are stopped at the end. Runs for about a minute.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { scriptArgs, toNumber } from './lib/args.mjs';
import { sickServerChecks } from './lib/sick-servers.mjs';
import { openStores } from './lib/stores.mjs';

const args = scriptArgs({
  rounds: { default: '3' },
  down: { default: '2500' },
  workers: { default: '4' },
  warmup: { default: '4000' },
  stores: { default: 'redis,memcached,s3' },
  tiered: { default: true, type: 'boolean' },
  'no-tiered': { default: false, type: 'boolean' },
  'no-sick': { default: false, type: 'boolean' },
});
const tiered = args.tiered && !args['no-tiered'];
const rounds = toNumber(args.rounds);
const downMs = toNumber(args.down);
const workerCount = toNumber(args.workers);
const log = (line) => process.stderr.write(`${line}\n`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** A sleep that does not keep the process alive once everything else is done. */
const sleepUnref = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** The adapters' default call bounds, which the workers use. */
const TIMEOUTS = { redis: 500, memcached: 500, s3: 5000, tiered: 5000 };

const opened = await openStores(args.stores.split(',').filter(Boolean));
for (const s of opened.skipped) log(`chaos: ${s.name} skipped: ${s.reason}`);
const stores = opened.open.filter((s) => {
  if (!s.server)
    log(`chaos: ${s.name} is an external server (BCC_TEST_*): not killed, only rendered through`);
  return true;
});
if (stores.length === 0) {
  console.log('chaos SKIP: no store could be opened');
  process.exit(1);
}

const workerPath = fileURLToPath(new URL('./lib/chaos-worker.mjs', import.meta.url));
const addresses = Object.fromEntries(stores.map((s) => [s.name, s.address]));
/** What the workers render through: each store, and the tiered cache over all of them. */
const targets = [...stores.map((s) => s.name), ...(tiered ? ['tiered'] : [])];
/** Per target, the times (ms since epoch) at which some worker had a hit. */
const hitTimes = Object.fromEntries(targets.map((name) => [name, []]));
const totals = Object.fromEntries(
  targets.map((name) => [name, { renders: 0, failed: 0, hits: 0, misses: 0, errors: 0, maxCallMs: 0 }]),
);
const failures = [];
const finished = [];
const slowCalls = [];
/** Kill and restart times, to place slow calls on the timeline. */
const timeline = [];

const workers = Array.from({ length: workerCount }, (_, id) => {
  const child = fork(workerPath, [JSON.stringify({ id, stores: addresses, tiered })], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const done = new Promise((resolve) => {
    child.on('message', (message) => {
      if (message.done) {
        failures.push(...message.failures);
        finished.push(message.totals);
        resolve();
        return;
      }
      for (const [name, w] of Object.entries(message.stores)) {
        if (w.hits > 0) hitTimes[name].push(message.t);
        for (const call of w.slow) slowCalls.push({ store: name, worker: id, ...call });
        const t = totals[name];
        for (const k of ['renders', 'failed', 'hits', 'misses', 'errors']) t[k] += w[k];
        t.maxCallMs = Math.max(t.maxCallMs, w.maxCallMs);
      }
    });
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) failures.push(`worker ${id} exited with ${code}`);
      resolve();
    });
  });
  return { child, done };
});

const restarts = [];
const started = performance.now();
timeline.push({ at: Date.now(), what: 'workers started' });
try {
  await sleep(toNumber(args.warmup));
  for (let round = 1; round <= rounds; round++) {
    for (const store of stores) {
      if (!store.server) continue;
      const killedAt = Date.now();
      timeline.push({ at: killedAt, what: `${store.name} killed` });
      await store.server.kill();
      await sleep(downMs);
      timeline.push({ at: Date.now(), what: `${store.name} starting` });
      await store.server.start();
      const upAt = Date.now();
      timeline.push({ at: upAt, what: `${store.name} answering` });
      // Hits resume when a worker reports a hit on this store in a window that began after the restart.
      let resumedAt = null;
      while (Date.now() - upAt < 15_000) {
        resumedAt = hitTimes[store.name].find((t) => t - 250 >= upAt) ?? null;
        if (resumedAt) break;
        await sleep(100);
      }
      const event = {
        store: store.name,
        round,
        downMs: upAt - killedAt,
        resumeMs: resumedAt ? resumedAt - upAt : null,
      };
      restarts.push(event);
      log(
        `chaos: ${store.name} killed and restarted (round ${round}): ${event.resumeMs === null ? 'NO hits since' : `hits again ${event.resumeMs} ms after it answered`}`,
      );
      await sleep(1000);
    }
  }
  await sleep(1000);
} finally {
  for (const w of workers) w.child.send('stop');
  await Promise.race([Promise.all(workers.map((w) => w.done)), sleepUnref(15_000)]);
  for (const w of workers) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  await opened.close();
}

const seconds = (performance.now() - started) / 1000;
// Totals as the workers counted them at the end (the windows add up to the same, minus the last).
const final = Object.fromEntries(
  targets.map((name) => {
    const sum = { renders: 0, failed: 0, hits: 0, misses: 0, errors: 0, maxCallMs: 0 };
    for (const f of finished) {
      const t = f[name];
      if (!t) continue;
      for (const k of ['renders', 'failed', 'hits', 'misses', 'errors']) sum[k] += t[k];
      sum.maxCallMs = Math.max(sum.maxCallMs, t.maxCallMs);
      if (t.hitsByTier) sum.hitsByTier = t.hitsByTier.map((n, i) => n + (sum.hitsByTier?.[i] ?? 0));
    }
    return [name, finished.length === workerCount ? sum : totals[name]];
  }),
);
for (const f of failures.slice(0, 10)) log(`  FAILURE ${f}`);
for (const call of slowCalls.slice(0, 20)) {
  const before = timeline.filter((e) => e.at <= call.endedAt - call.ms).at(-1);
  log(
    `  slow call: ${call.store} ${call.method} ${call.ms} ms (worker ${call.worker}), started ${before ? `${call.endedAt - call.ms - before.at} ms after ${before.what}` : 'before the workers'}${call.error ? `; error: ${call.error}` : ''}`,
  );
}
const renders = Object.values(final).reduce((n, t) => n + t.renders, 0);
const failed = Object.values(final).reduce((n, t) => n + t.failed, 0);
const resumed = restarts.filter((r) => r.resumeMs !== null);
const worstResume = Math.max(0, ...resumed.map((r) => r.resumeMs));
// A call may overrun its bound by the time the event loop takes to notice (4 workers, 3 servers
// and this script share 2 cores), not by more.
const overBound = targets.filter((name) => final[name].maxCallMs > TIMEOUTS[name] * 1.5 + 250);
// Then sick servers of their own: killed in the middle of large replies, and a huge planted value.
const sick = args['no-sick'] ? { ok: true, lines: [] } : await sickServerChecks({ log });
for (const line of sick.lines) console.log(`chaos sick-server ${line}`);
const ok =
  sick.ok &&
  failed === 0 &&
  failures.length === 0 &&
  resumed.length === restarts.length &&
  overBound.length === 0 &&
  renders > 0;
console.log(
  `chaos ${ok ? 'PASS' : 'FAIL'}: workers=${workerCount} renders=${renders} failed=${failed} ` +
    `restarts=${restarts.length} hits-resumed=${resumed.length}/${restarts.length} (slowest ${worstResume} ms after the server answered) ` +
    `worst-cache-call-ms/bound ${targets.map((name) => `${name}=${final[name].maxCallMs.toFixed(0)}/${TIMEOUTS[name]}`).join(' ')} ` +
    `hits/misses/backend-errors ${targets.map((name) => `${name}=${final[name].hits}/${final[name].misses}/${final[name].errors}`).join(' ')} ` +
    `${final.tiered?.hitsByTier ? `tiered-hits-by-tier ${stores.map((s, i) => `${s.name}=${final.tiered.hitsByTier[i]}`).join(' ')} ` : ''}` +
    `${overBound.length ? `OVER-BOUND=${overBound.join(',')} ` : ''}in ${seconds.toFixed(0)} s`,
);
process.exitCode = ok ? 0 : 1;
