// A small benchmark harness for a shared 2-core machine. Variants are measured interleaved,
// round after round, and each reports the median of its per-round times, so a burst of load from
// another process hits every variant alike and the ratios stay meaningful.

async function calibrate(fn, ms) {
  let per = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) await fn();
    if (performance.now() - t0 > ms || per > 1e7) return per;
    per *= 2;
  }
}

/**
 * Measures each `[name, fn]` (sync or async) in `rounds` interleaved rounds of ~`ms` each and
 * returns `{ name: median µs per call }`.
 */
export async function compare(variants, { rounds = 15, ms = 25 } = {}) {
  const plans = [];
  for (const [name, fn] of variants) plans.push({ name, fn, per: await calibrate(fn, ms), samples: [] });
  for (let round = 0; round < rounds; round++) {
    for (const plan of plans) {
      const t0 = performance.now();
      for (let i = 0; i < plan.per; i++) await plan.fn();
      plan.samples.push(((performance.now() - t0) * 1000) / plan.per);
    }
  }
  const result = {};
  for (const plan of plans) {
    plan.samples.sort((a, b) => a - b);
    result[plan.name] = plan.samples[Math.floor(plan.samples.length / 2)];
  }
  return result;
}

export const fmt = (us) => `${(us < 10 ? us.toFixed(2) : us.toFixed(1)).padStart(8)} µs`;

export function table(title, rows) {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [name, us, note = ''] of rows) console.log(`  ${name.padEnd(width)} ${fmt(us)}  ${note}`);
}
