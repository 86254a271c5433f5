// `pnpm start [setup] [engine]`: one setup on a free port, e.g. `pnpm start fastify pug`.
const [module = 'fastify', engine = 'nunjucks'] = process.argv.slice(2);
const { start } = await import(`./setups/${module}.mjs`);
const server = await start(engine);
console.log(`${module} ${module === 'fastify' ? engine : ''} on ${server.url}`);
