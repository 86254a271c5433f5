// One fresh process of the benchmark: load Nunjucks (and bcc), render every page once through
// the callback API, and print one JSON line. Usage: node child.mjs <mode> <config-json>
//   none          Nunjucks compiles every template (FileSystemLoader)
//   precompiled   nunjucks.precompile output, loaded with PrecompiledLoader
//   bcc-fs        FileSystemBytecodeCache
//   bcc-redis     RedisBytecodeCache
// Times are milliseconds since this process started (performance.now()).
const [mode, configJson] = process.argv.slice(2);
const config = JSON.parse(configJson ?? '{}');
const { createHash } = await import('node:crypto');
const { default: nunjucks } = await import('nunjucks');
const { context } = await import('./context.mjs');

let env;
let handle = null;
let cache = null;
if (mode === 'precompiled') {
  const { createRequire } = await import('node:module');
  const templates = createRequire(import.meta.url)(config.precompiled);
  env = new nunjucks.Environment(new nunjucks.PrecompiledLoader(templates));
} else {
  env = new nunjucks.Environment(new nunjucks.FileSystemLoader(config.templates));
  if (mode === 'bcc-fs') {
    const { FileSystemBytecodeCache } = await import('@bcc/fs');
    cache = new FileSystemBytecodeCache({ directory: config.directory });
  } else if (mode === 'bcc-redis') {
    const { RedisBytecodeCache } = await import('@bcc/redis');
    cache = new RedisBytecodeCache({ url: config.redis, prefix: config.prefix });
  } else if (mode !== 'none') {
    throw new Error(`unknown mode ${mode}`);
  }
  if (cache) {
    const { useBytecodeCache } = await import('@bcc/nunjucks');
    handle = useBytecodeCache(env, cache, config.codeCache === false ? { codeCache: false } : {});
  }
}
const ready = performance.now();

const digest = createHash('sha256');
let bytes = 0;
for (const page of config.pages) {
  const html = await new Promise((resolve, reject) => {
    env.render(page, context, (error, result) => (error ? reject(error) : resolve(result)));
  });
  bytes += html.length;
  digest.update(html);
}
const rendered = performance.now();
await handle?.flush();
await cache?.close();
process.stdout.write(
  `${JSON.stringify({ mode, ready, rendered, bytes, digest: digest.digest('hex'), stats: handle?.stats ?? null })}\n`,
);
