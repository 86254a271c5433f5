// Handlebars with no cache: every template and partial compiled in every process.
import Handlebars from 'handlebars';
import { compileSite, renderAndReport } from './hbs-common.mjs';

const { layout, pages } = compileSite(Handlebars.create());
await renderAndReport('hbs-none', layout, pages, performance.now());
