// Handlebars through bcc + fs: the same compile calls as with no cache.
import { FileSystemBytecodeCache } from '@bcc/fs';
import { useBytecodeCache } from '@bcc/handlebars';
import Handlebars from 'handlebars';
import { compileSite, config, renderAndReport } from './hbs-common.mjs';

const hb = Handlebars.create();
const bcc = useBytecodeCache(hb, new FileSystemBytecodeCache({ directory: config.directory }));
const { layout, pages } = compileSite(hb);
await renderAndReport('hbs-bcc-fs', layout, pages, performance.now(), async () => {
  await bcc.flush();
  return bcc.stats;
});
