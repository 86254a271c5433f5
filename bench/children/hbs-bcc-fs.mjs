// Handlebars through bcc + fs: the same compile calls as with no cache.
import { FileSystemBytecodeCache } from '@bcc/fs';
import { useBytecodeCache } from '@bcc/handlebars';
import Handlebars from 'handlebars';
import { config, readTemplates, registerHelpers, renderAndReport } from './hbs-common.mjs';

const hb = Handlebars.create();
const bcc = useBytecodeCache(hb, new FileSystemBytecodeCache({ directory: config.directory }));
registerHelpers(hb);
const sources = readTemplates(config.templates);
for (const [name, source] of Object.entries(sources))
  if (name.startsWith('partials/')) hb.registerPartial(name.slice(9), source);
const pages = Object.entries(sources)
  .filter(([name]) => name.startsWith('pages/'))
  .map(([name, source]) => [name, hb.compile(source)]);
await renderAndReport(
  'hbs-bcc-fs',
  hb.compile(sources['layouts/main']),
  pages,
  performance.now(),
  async () => {
    await bcc.flush();
    return bcc.stats;
  },
);
