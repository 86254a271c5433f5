// One fresh process: load Nunjucks, optionally turn on the filesystem cache, render every page
// once, and print what happened as one JSON line. index.mjs runs this many times.
const started = performance.now(); // ms since this process started
const [mode, directory] = process.argv.slice(2);
const { default: nunjucks } = await import('nunjucks');
const views = new URL('./views/', import.meta.url).pathname;
const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(views));
let stats = null;
if (mode === 'bcc') {
  const { FileSystemBytecodeCache } = await import('@bcc/fs');
  const { useBytecodeCache } = await import('@bcc/nunjucks');
  stats = useBytecodeCache(env, new FileSystemBytecodeCache(directory ? { directory } : {})).stats;
}
const ready = performance.now();
const context = {
  site: {
    name: 'bcc shop',
    year: 2026,
    menu: ['home', 'shop', 'orders', 'account', 'help'].map((p) => ({ href: `/${p}`, label: p })),
  },
  user: { name: 'ada lovelace', admin: true },
  products: Array.from({ length: 12 }, (_, i) => ({
    name: `Product ${i}`,
    description: 'A fine thing to own, made with care. '.repeat(4),
    price: 1999 + i * 250,
    stock: i % 5,
    category: ['books', 'tools', 'games'][i % 3],
    tags: i % 2 ? ['new', 'sale'] : [],
  })),
  orders: Array.from({ length: 5 }, (_, i) => ({
    id: 1000 + i,
    item: `Product ${i}`,
    status: i % 2 ? 'sent' : 'open',
  })),
};
let bytes = 0;
for (const page of ['home', 'shop', 'orders', 'account', 'help'])
  bytes += env.render(`pages/${page}.html`, context).length;
const done = performance.now();
// Give the background write of V8 code caches a moment before the process exits.
await new Promise((resolve) => setTimeout(resolve, 20));
process.stdout.write(
  `${JSON.stringify({ mode, total: done, templates: done - ready, setup: ready - started, bytes, stats })}\n`,
);
