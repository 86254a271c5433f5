// The environment each benchmark mode renders with, made after Nunjucks was imported (so the
// callers can time the set-up alone): plain, Nunjucks' precompiled module, or bcc + fs.
// config: { mode: 'none' | 'precompiled' | 'bcc-fs' | 'bcc-fs-bundle', templates, precompiled?, directory? }.
export async function makeEnvironment(nunjucks, config) {
  if (config.mode === 'precompiled') {
    const { createRequire } = await import('node:module');
    const templates = createRequire(import.meta.url)(config.precompiled);
    return { env: new nunjucks.Environment(new nunjucks.PrecompiledLoader(templates)), bcc: null };
  }
  const env = new nunjucks.Environment(new nunjucks.FileSystemLoader(config.templates));
  if (config.mode !== 'bcc-fs' && config.mode !== 'bcc-fs-bundle') return { env, bcc: null };
  const [{ FileSystemBytecodeCache }, { useBytecodeCache }] = await Promise.all([
    import('@bcc/fs'),
    import('@bcc/nunjucks'),
  ]);
  const options = config.mode === 'bcc-fs-bundle' ? { bundle: 'bench' } : {};
  return {
    env,
    bcc: useBytecodeCache(env, new FileSystemBytecodeCache({ directory: config.directory }), options),
  };
}
