// The targets of issue "Fastest on the Node that users run", judged on one Node version's
// measurements: each line says met or not, and by how much.

const TARGETS = [
  {
    what: '50 templates: bcc + fs vs precompiled',
    max: 0.8,
    value: (m) => m.fifty['bcc-fs'].wall / m.fifty.precompiled.wall,
  },
  {
    what: '50 templates: bcc + fs vs the limit',
    max: 1.25,
    value: (m) => m.fifty['bcc-fs'].wall / m.limit.wall,
  },
  {
    what: 'large app: bcc + fs vs precompiled',
    max: 0.5,
    value: (m) => m.app['bcc-fs'].wall / m.app.precompiled.wall,
  },
  {
    what: 'small page, in-process load + first render: bcc vs precompiled',
    max: 0.8,
    value: (m) => m.inProcess['bcc-fs'] / m.inProcess.precompiled,
  },
  {
    what: 'small page, whole process: bcc vs precompiled',
    max: 1.0,
    value: (m) => m.small['bcc-fs'].wall / m.small.precompiled.wall,
  },
  {
    what: '50 templates: bcc + redis vs precompiled',
    max: 1.0,
    value: (m) => (m.fifty['bcc-redis'] ? m.fifty['bcc-redis'].wall / m.fifty.precompiled.wall : Number.NaN),
  },
];

/** One verdict per target: `{ what, value, max, met, text }`. */
export function judge(measured) {
  return TARGETS.map((t) => {
    const value = t.value(measured);
    if (Number.isNaN(value))
      return { what: t.what, value, max: t.max, met: false, text: `${t.what}: not measured` };
    const met = value <= t.max;
    const by = met ? '' : `, ${((value / t.max - 1) * 100).toFixed(0)}% over (target ≤ ${t.max.toFixed(2)}×)`;
    return {
      what: t.what,
      value,
      max: t.max,
      met,
      text: `${t.what}: **${value.toFixed(2)}×** — ${met ? `met (target ≤ ${t.max.toFixed(2)}×)` : `not met${by}`}`,
    };
  });
}
