// One cold start: a fresh process imports the function (init) and invokes it once, then prints
// one JSON line. Times are milliseconds since this process started.
const started = performance.now();
const { handler } = await import('./handler.mjs');
const initialized = performance.now();
const response = await handler({ invoice: 42 });
const done = performance.now();
// The page itself, compared by the caller: hashing it here would import node:crypto, which the
// function does not need (bcc does not either for one page) and would add ~5 ms to every run.
console.log(
  JSON.stringify({
    processStart: started,
    init: initialized - started,
    invoke: done - initialized,
    total: done,
    body: response.body,
    stats: response.stats,
  }),
);
