// The targets of issue "Fastest on the Node that users run", judged on one Node version's
// measurements: each line says met or not, and by how much.

/** The middle half (25th to 75th percentile) of `values`. */
function middleHalf(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => {
    const i = (sorted.length - 1) * q;
    const lo = Math.floor(i);
    return sorted[lo] + (sorted[Math.ceil(i)] - sorted[lo]) * (i - lo);
  };
  return [at(0.25), at(0.75)];
}

/**
 * The spread of a ratio over the run: mode `a` over mode `b` round by round (each round runs every
 * mode once, back to back), so a reader sees how far one run's verdict can be trusted on a noisy
 * machine. `null` when the two were not timed in the same rounds.
 */
function roundRatios(a, b) {
  if (!a?.rounds || !b?.rounds || a.rounds.length !== b.rounds.length) return null;
  return middleHalf(a.rounds.map((wall, i) => wall / b.rounds[i]));
}

/** `a`'s wall time over `b`'s; NaN when `a` was not measured. */
const ratioOf = (a, b) => (a ? a.wall / b.wall : Number.NaN);

/**
 * A target's value and spread for the ratio of two modes' wall times: `pick(m)` gives the mode
 * and the one it is measured against, once for both.
 */
const ratio = (pick) => ({
  value: (m) => ratioOf(...pick(m)),
  spread: (m) => roundRatios(...pick(m)),
});

const TARGETS = [
  {
    what: '50 templates: bcc + fs vs precompiled',
    max: 0.8,
    ...ratio((m) => [m.fifty['bcc-fs'], m.fifty.precompiled]),
  },
  {
    what: '50 templates: bcc + fs vs the limit',
    max: 1.25,
    value: (m) => m.fifty['bcc-fs'].wall / m.limit.wall,
  },
  {
    what: 'large app: bcc + fs vs precompiled',
    max: 0.5,
    ...ratio((m) => [m.app['bcc-fs'], m.app.precompiled]),
  },
  {
    what: 'small page, in-process load + first render: bcc vs precompiled',
    max: 0.8,
    value: (m) => m.inProcess['bcc-fs'] / m.inProcess.precompiled,
  },
  {
    what: 'small page, whole process: bcc vs precompiled',
    max: 1.0,
    ...ratio((m) => [m.small['bcc-fs'], m.small.precompiled]),
  },
  {
    what: '50 templates: bcc + fs with a bundle vs precompiled',
    max: 0.8,
    ...ratio((m) => [m.fifty['bcc-fs-bundle'], m.fifty.precompiled]),
  },
  {
    what: '50 templates: bcc + fs with a bundle vs the limit',
    max: 1.25,
    value: (m) => ratioOf(m.fifty['bcc-fs-bundle'], m.limit),
  },
  {
    what: 'large app: bcc + fs with a bundle vs precompiled',
    max: 0.5,
    ...ratio((m) => [m.app['bcc-fs-bundle'], m.app.precompiled]),
  },
  {
    what: 'small page, in-process: bcc with a bundle vs precompiled',
    max: 0.8,
    value: (m) =>
      m.inProcess['bcc-fs-bundle'] === undefined
        ? Number.NaN
        : m.inProcess['bcc-fs-bundle'] / m.inProcess.precompiled,
  },
  {
    what: 'small page, whole process: bcc with a bundle vs precompiled',
    max: 1.0,
    ...ratio((m) => [m.small['bcc-fs-bundle'], m.small.precompiled]),
  },
  {
    what: 'Handlebars: bcc + fs speed-up over no cache',
    min: 5,
    ...ratio((m) => [m.hbs.none, m.hbs['bcc-fs']]),
  },
  {
    what: 'Handlebars: bcc + fs vs precompiled',
    max: 0.8,
    ...ratio((m) => [m.hbs['bcc-fs'], m.hbs.precompiled]),
  },
  {
    what: 'Pug: bcc + fs speed-up over no cache',
    min: 10,
    ...ratio((m) => [m.pug.none, m.pug['bcc-fs']]),
  },
  {
    what: 'Pug: bcc + fs vs precompiled',
    max: 0.8,
    ...ratio((m) => [m.pug['bcc-fs'], m.pug.precompiled]),
  },
  {
    what: 'Eta: bcc + fs vs precompiled',
    max: 0.8,
    ...ratio((m) => [m.eta['bcc-fs'], m.eta.precompiled]),
  },
  {
    what: 'Eta: bcc + fs with a bundle vs precompiled',
    max: 0.8,
    ...ratio((m) => [m.eta['bcc-fs-bundle'], m.eta.precompiled]),
  },
  {
    what: '50 templates: bcc + redis with a bundle vs precompiled',
    max: 1.0,
    ...ratio((m) => [m.fifty['bcc-redis-bundle'], m.fifty.precompiled]),
  },
  {
    what: '50 templates: bcc + redis vs precompiled',
    max: 1.0,
    ...ratio((m) => [m.fifty['bcc-redis'], m.fifty.precompiled]),
  },
];

/** One verdict per target: `{ what, value, met, text }`; a target has a `max` or a `min`. */
export function judge(measured) {
  return TARGETS.map((t) => {
    const value = t.value(measured);
    if (Number.isNaN(value)) return { what: t.what, value, met: false, text: `${t.what}: not measured` };
    const upper = t.max !== undefined;
    const bound = upper ? t.max : t.min;
    const met = upper ? value <= bound : value >= bound;
    const target = `target ${upper ? '≤' : '≥'} ${bound.toFixed(2)}×`;
    const miss = upper
      ? `${((value / bound - 1) * 100).toFixed(0)}% over`
      : `${((1 - value / bound) * 100).toFixed(0)}% short`;
    const verdict = met ? `met (${target})` : `not met, ${miss} (${target})`;
    const spread = t.spread?.(measured) ?? null;
    const within = spread ? ` (middle half of rounds ${spread[0].toFixed(2)}–${spread[1].toFixed(2)}×)` : '';
    return {
      what: t.what,
      value,
      spread,
      met,
      text: `${t.what}: **${value.toFixed(2)}×**${within} — ${verdict}`,
    };
  });
}

/**
 * Why the misses happen, from the same run's phases: one line per workload, naming the phase
 * that holds bcc back (set-up: importing bcc; load: reading and checking entries and V8
 * deserialising their code caches; render: what a render still compiles, Nunjucks' own code).
 */
export function explain(m) {
  const p = m.phases;
  const fmt = (ms) => ms.toFixed(1);
  const bcc = p['bcc-fs'];
  const pre = p.precompiled;
  const lines = [
    `50 templates: against the precompiled path bcc spends ${fmt(Math.abs(bcc.setup - pre.setup))} ms ${bcc.setup >= pre.setup ? 'more' : 'less'} on set-up (importing \`@bcc/core\`, \`@bcc/fs\`, \`@bcc/nunjucks\` and the Node built-ins they use), ${fmt(bcc.load - pre.load)} ms more loading (each source read and hashed, each entry read and checked, ~1.3 MB of V8 code cache deserialised) and saves ${fmt(pre.render - bcc.render)} ms of rendering (V8 compiles none of the template functions).`,
    `Against the limit (${fmt(m.limit.wall)} ms), bcc + fs is ${fmt(m.fifty['bcc-fs'].wall - m.limit.wall)} ms over: its set-up (${fmt(bcc.setup)}), its loading (${fmt(bcc.load)}) and a render phase ${fmt(bcc.render - m.limit.warmRender)} ms slower than a warm process's (Nunjucks' own runtime is compiled by V8 in every fresh process, lazily; Node's compile cache keeps only eagerly compiled functions).`,
    `Large app: bcc loads only the templates the 5 pages reach, the precompiled path loads all 500 (${fmt(m.app.precompiled.wall)} ms vs ${fmt(m.app['bcc-fs'].wall)} ms for bcc); what is left of bcc's time is the same fixed set-up as above.`,
    `Small page: in-process, bcc takes ${fmt(m.inProcess['bcc-fs'])} ms against ${fmt(m.inProcess.precompiled)} ms: importing bcc's three packages (~5 ms) alone costs more than the precompiled path's whole load and render, which is where this target is lost.`,
  ];
  const bundled = m.fifty['bcc-fs-bundle'];
  if (bundled && p['bcc-fs-bundle']) {
    const phase = p['bcc-fs-bundle'];
    lines.push(
      `With the \`bundle\` option, bcc + fs takes ${fmt(bundled.wall)} ms (${(bundled.wall / m.fifty.precompiled.wall).toFixed(2)}× the precompiled path): its load phase is ${fmt(phase.load)} ms against ${fmt(bcc.load)} ms one entry per template (one read, one check of every member's file, one script and one V8 deserialisation for all 50).`,
    );
  }
  const eager = m.fifty['precompiled-eager'];
  if (eager) {
    lines.push(
      `The precompiled module under \`node --no-lazy\` takes ${fmt(eager.wall)} ms (${(eager.wall / m.fifty['bcc-fs'].wall).toFixed(2)}× bcc + fs): every template function and Nunjucks' runtime then come from Node's compile cache, in one script with no per-template work. What separates bcc from it is its per-template loading (each source read and hashed, each entry read, decoded and run as its own script).`,
    );
  }
  if (m.fifty['bcc-redis']) {
    lines.push(
      `bcc + redis: ${fmt(m.fifty['bcc-redis'].wall - m.fifty['bcc-fs'].wall)} ms over bcc + fs, spread over the asynchronous path: connecting, waiting for replies (each page's templates are fetched level by level, one round trip per level), promises and the socket; ioredis is not imported by a process that only reads.`,
    );
  }
  if (m.hbs) {
    lines.push(
      `Handlebars: no cache is only ${(m.hbs.none.wall / m.hbs.precompiled.wall).toFixed(2)}× the precompiled path here (Handlebars compiles fast, and Node's start-up and imports are most of every process), so ≥ 5× over no cache would need bcc below the cost of starting Node; against the precompiled module bcc pays its imports and reading 50 entries (${fmt(m.hbs['bcc-fs'].wall - m.hbs.precompiled.wall)} ms more).`,
    );
  }
  if (m.pug) {
    const bcc = m.pug['bcc-fs'].wall;
    const pre = m.pug.precompiled.wall;
    lines.push(
      `Pug: no cache is ${(m.pug.none.wall / pre).toFixed(1)}× the precompiled path (Pug's compiler is heavy, and importing it alone is tens of ms). \`createPugRenderer\` never imports the compiler in a warm process, so bcc + fs takes ${fmt(bcc)} ms against ${fmt(pre)} ms for Pug's client functions (${(bcc / pre).toFixed(2)}×): it is spared V8's lazy compile of the 40 template functions (their V8 code cache is in the entries) but pays its own set-up (importing bcc, and \`node:crypto\` once its checksums pass 16 KiB of sources) and checks every entry against the files it inlined, which the precompiled module skips because it is rebuilt by hand.`,
    );
  }
  if (m.eta) {
    lines.push(
      `Eta: Eta compiles fast, so no cache, precompiled and bcc are within a few ms of each other (${fmt(m.eta.none.wall)}, ${fmt(m.eta.precompiled.wall)}, ${fmt(m.eta['bcc-fs'].wall)} ms): Node's start-up is most of every process, and bcc's set-up (its imports, and \`node:crypto\` for 50 templates' checksums) costs about what it saves.${m.eta['bcc-fs-bundle'] ? ` With a bundle bcc + fs takes ${fmt(m.eta['bcc-fs-bundle'].wall)} ms (${(m.eta['bcc-fs-bundle'].wall / m.eta.precompiled.wall).toFixed(2)}× precompiled): one entry, one script and no checksum per template.` : ''}`,
    );
  }
  return lines;
}
