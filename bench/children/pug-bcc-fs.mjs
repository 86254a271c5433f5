// Pug through bcc + fs: createPugRenderer, which imports Pug's compiler only on a miss (a warm
// process never does), rendering the same files as the other modes.
import { join } from 'node:path';
import { FileSystemBytecodeCache } from '@bcc/fs';
import { createPugRenderer } from '@bcc/pug';
import { config, renderPages } from './pug-eta-common.mjs';

const views = createPugRenderer(new FileSystemBytecodeCache({ directory: config.directory }));
await renderPages(
  'pug-bcc-fs',
  (name, locals) => views.renderFile(join(config.templates, `${name}.pug`), locals),
  performance.now(),
  async () => {
    await views.flush();
    return views.stats;
  },
);
