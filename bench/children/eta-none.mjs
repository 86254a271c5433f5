// Eta with no bcc: Eta compiles each template (its in-process cache on, as in production).
import { Eta } from 'eta';
import { config, renderPages } from './pug-eta-common.mjs';

const eta = new Eta({ views: config.templates, cache: true });
await renderPages('eta-none', (name, locals) => eta.render(`./${name}`, locals), performance.now());
