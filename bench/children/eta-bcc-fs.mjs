// Eta through bcc + fs: the same render calls as with no bcc (config.bundle: with a working-set bundle).

import { useBytecodeCache } from '@bcc/eta';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { Eta } from 'eta';
import { config, renderPages } from './pug-eta-common.mjs';

const eta = new Eta({ views: config.templates, cache: true });
const bcc = useBytecodeCache(eta, new FileSystemBytecodeCache({ directory: config.directory }), {
  ...(config.bundle ? { bundle: config.bundle } : {}),
});
await renderPages(
  'eta-bcc-fs',
  (name, locals) => eta.render(`./${name}`, locals),
  performance.now(),
  async () => {
    await bcc.flush();
    return bcc.stats;
  },
);
