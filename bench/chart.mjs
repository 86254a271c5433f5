// An SVG bar chart of the 50-template workload: wall time per mode, grouped by Node version,
// with the limit as a line per group. Plain SVG text, so no browser or library is needed.

const COLORS = {
  none: '#9e9e9e',
  precompiled: '#5c6bc0',
  'bcc-fs': '#2e7d32',
  'bcc-fs-bundle': '#00897b',
  'bcc-redis': '#f9a825',
  'bcc-redis-bundle': '#ef6c00',
};
const escapeXml = (text) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderChart(measured, labels) {
  const kinds = Object.keys(COLORS).filter((k) => measured.some((m) => m.fifty[k]));
  const max = Math.max(...measured.flatMap((m) => kinds.map((k) => m.fifty[k]?.wall ?? 0)));
  const scale = 260 / (Math.ceil(max / 50) * 50);
  const bar = 34;
  const groupWidth = kinds.length * bar + 40;
  const left = 60;
  const width = left + measured.length * groupWidth + 20;
  const height = 380 + 22 * kinds.length;
  const base = 310;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12" role="img" aria-labelledby="chart-title">`,
    '<title id="chart-title">Wall time of a fresh process rendering 50 Nunjucks templates, per mode and Node version</title>',
    `<text x="${left}" y="20" font-size="14" font-weight="bold">Fresh process, 50 templates / 40 pages: wall time (ms, median)</text>`,
  ];
  for (let tick = 0; tick * 50 * scale <= 260; tick++) {
    const y = base - tick * 50 * scale;
    parts.push(
      `<line x1="${left - 4}" x2="${width - 10}" y1="${y}" y2="${y}" stroke="#e0e0e0"/>`,
      `<text x="${left - 8}" y="${y + 4}" text-anchor="end">${tick * 50}</text>`,
    );
  }
  measured.forEach((m, g) => {
    const x0 = left + g * groupWidth + 10;
    kinds.forEach((kind, i) => {
      const r = m.fifty[kind];
      if (!r) return;
      const h = Number((r.wall * scale).toFixed(1));
      parts.push(
        `<rect x="${x0 + i * bar}" y="${(base - h).toFixed(1)}" width="${bar - 6}" height="${h}" fill="${COLORS[kind]}"><title>${escapeXml(labels[kind])}: ${r.wall.toFixed(1)} ms</title></rect>`,
        `<text x="${x0 + i * bar + (bar - 6) / 2}" y="${(base - h - 4).toFixed(1)}" text-anchor="middle" font-size="10">${Math.round(r.wall)}</text>`,
      );
    });
    const ly = Number((base - m.limit.wall * scale).toFixed(1));
    parts.push(
      `<line x1="${x0 - 4}" x2="${x0 + kinds.length * bar}" y1="${ly}" y2="${ly}" stroke="#c62828" stroke-dasharray="4 3"/>`,
      `<text x="${x0 + (kinds.length * bar) / 2}" y="${base + 18}" text-anchor="middle">Node ${escapeXml(m.version)}</text>`,
      `<text x="${x0 + (kinds.length * bar) / 2}" y="${base + 32}" text-anchor="middle" font-size="10">${m.compileCache ? 'compile cache on' : 'no compile cache'}</text>`,
    );
  });
  kinds.forEach((kind, i) => {
    const y = base + 52 + i * 20;
    parts.push(
      `<rect x="${left}" y="${y - 10}" width="12" height="12" fill="${COLORS[kind]}"/>`,
      `<text x="${left + 18}" y="${y}">${escapeXml(labels[kind])}</text>`,
    );
  });
  const ly = base + 52 + kinds.length * 20;
  parts.push(
    `<line x1="${left}" x2="${left + 12}" y1="${ly - 4}" y2="${ly - 4}" stroke="#c62828" stroke-dasharray="4 3"/>`,
    `<text x="${left + 18}" y="${ly}">the limit: Node start + import Nunjucks + a warm render</text>`,
    '</svg>',
  );
  return `${parts.join('\n')}\n`;
}
