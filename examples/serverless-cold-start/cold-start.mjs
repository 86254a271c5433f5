// One cold start: a fresh process imports the function (init) and invokes it once, then prints
// one JSON line. Times are milliseconds since this process started.
const started = performance.now();
const { handler } = await import('./handler.mjs');
const initialized = performance.now();
const response = await handler({ invoice: 42 });
const done = performance.now();
const { createHash } = await import('node:crypto');
console.log(
  JSON.stringify({
    processStart: started,
    init: initialized - started,
    invoke: done - initialized,
    total: done,
    digest: createHash('sha256').update(response.body).digest('hex'),
    stats: response.stats,
  }),
);
