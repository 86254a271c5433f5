// A tiny benchmark harness: runs `fn` in batches until ~`ms` of work is done, and reports the
// median time per call. Medians resist the GC pauses and scheduler noise of a 2-core machine.
export function measure(fn, { ms = 400, batches = 15 } = {}) {
  let per = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) fn();
    if (performance.now() - t0 > ms / batches / 4 || per > 1e7) break;
    per *= 2;
  }
  const samples = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    for (let i = 0; i < per; i++) fn();
    samples.push(((performance.now() - t0) * 1000) / per);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

export const fmt = (us) => `${(us < 10 ? us.toFixed(2) : us.toFixed(1)).padStart(8)} µs`;

export function table(title, rows) {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [name, us, note = ''] of rows) console.log(`  ${name.padEnd(width)} ${fmt(us)}  ${note}`);
}
