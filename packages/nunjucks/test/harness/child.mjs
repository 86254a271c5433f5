// One process of the differential harness: builds the case's environment, renders its page
// through the case's API, plain or through bcc (a filesystem cache in the given directory),
// and prints what happened: the output, or the error's name and message, in order.
import { FileSystemBytecodeCache } from '@bcc/fs';
import nunjucks from 'nunjucks';
import { useBytecodeCache } from '../../dist/bcc-nunjucks.js';

const [caseJson, mode, directory] = process.argv.slice(2);
const testCase = JSON.parse(caseJson);
const cfg = testCase.config;
const events = [];
const done = (what) => {
  events.push(what);
};

class Banner {
  constructor(text) {
    this.tags = ['banner'];
    if (cfg.extension === 'stateful') this.options = { text };
  }
  parse(parser, nodes) {
    const token = parser.nextToken();
    parser.advanceAfterBlockEnd(token.value);
    const text = this.options ? this.options.text : 'banner';
    return new nodes.Output(token.lineno, token.colno, [
      new nodes.TemplateData(token.lineno, token.colno, `[${text}]`),
    ]);
  }
}

const sources = { 'page.njk': testCase.page, 'part.njk': testCase.part };
const makeLoader = () => ({
  getSource: (name) =>
    name in sources ? { src: sources[name], path: `/views/${name}`, noCache: cfg.noCache } : null,
});
const shared = makeLoader();
const options = {
  autoescape: cfg.autoescape,
  trimBlocks: cfg.trimBlocks,
  lstripBlocks: cfg.lstripBlocks,
  throwOnUndefined: cfg.throwOnUndefined,
  noCache: cfg.noCache,
  ...(testCase.tags ? { tags: testCase.tags } : {}),
};
const env = new nunjucks.Environment(cfg.sharedLoader ? shared : makeLoader(), options);
// A second environment on the same loader, with other options, rendering first.
const other = cfg.sharedLoader
  ? new nunjucks.Environment(shared, {
      ...options,
      autoescape: !cfg.autoescape,
      trimBlocks: !cfg.trimBlocks,
      lstripBlocks: !cfg.lstripBlocks,
    })
  : null;

env.addFilter('shout', (v) => `${v}!`);
if (cfg.extension !== 'none') env.addExtension('Banner', new Banner(cfg.extensionText));
if (other && cfg.extension !== 'none') other.addExtension('Banner', new Banner('other'));
const addAsync = () => env.addFilter('later', (v, cb) => setImmediate(() => cb(null, `~${v}~`)), true);
if (cfg.asyncFilter === 'before-bcc') addAsync();
const cache = mode === 'bcc' ? new FileSystemBytecodeCache({ directory }) : null;
const handles = [];
if (cache) {
  handles.push(useBytecodeCache(env, cache, { strings: true }));
  if (other) handles.push(useBytecodeCache(other, cache, { strings: true }));
}
if (cfg.asyncFilter === 'after-bcc') addAsync();

const context = { name: 'Ada <3', html: '<i>x</i>', n: 3, items: ['a', '<b>'], user: { name: 'lovelace' } };
const describe = (error) =>
  `error ${error?.name}: ${String(error?.message).replace(/\(unknown path\)|\/views\//g, '')}`;

function run(target, finish) {
  const callback = (error, out) => finish(error ? describe(error) : `out ${out}`);
  try {
    switch (testCase.api) {
      case 'render-sync':
        if (cfg.asyncFilter === 'after-getTemplate') addAsync();
        return finish(`out ${target.render('page.njk', context)}`);
      case 'render-callback':
        if (cfg.asyncFilter === 'after-getTemplate') addAsync();
        return target.render('page.njk', context, callback);
      case 'getTemplate-render':
        return target.getTemplate('page.njk', (error, tmpl) => {
          if (error) return finish(describe(error));
          if (cfg.asyncFilter === 'after-getTemplate') addAsync();
          tmpl.render(context, callback);
        });
      case 'renderString':
        if (cfg.asyncFilter === 'after-getTemplate') addAsync();
        return target.renderString(testCase.page, context, callback);
      case 'Template':
        if (cfg.asyncFilter === 'after-getTemplate') addAsync();
        return new nunjucks.Template(testCase.page, target).render(context, callback);
    }
  } catch (error) {
    finish(`thrown ${describe(error).slice(6)}`);
  }
}

const finishAll = async () => {
  for (const handle of handles) await handle.flush();
  console.log(JSON.stringify(events));
};
const runMain = () =>
  run(env, (what) => {
    done(`main ${what}`);
    setImmediate(finishAll);
  });
if (other) {
  try {
    other.render('part.njk', context, (error, out) => {
      done(`other ${error ? describe(error) : `out ${out}`}`);
      runMain();
    });
  } catch (error) {
    done(`other thrown ${describe(error)}`);
    runMain();
  }
} else runMain();
