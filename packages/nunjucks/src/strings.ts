import { nunjucksModule, type TemplateProps } from './internals.js';

/**
 * String templates (`env.renderString(src, ctx)`, `new nunjucks.Template(src, env)`) have no
 * loader: Nunjucks compiles them in `Template.prototype._compile`, on every call. bcc offers them
 * to an environment's cache there, when the environment opted in (`strings: true`): the method
 * is wrapped once per process, and the wrapper only acts for environments registered here, so
 * every other environment compiles exactly as before.
 */
export interface StringTemplateLoader {
  /** The template's code for `source`, or `null` to let Nunjucks compile it itself. */
  load(source: string): TemplateProps | null;
}

interface TemplateInternals {
  env: object;
  tmplStr?: unknown;
  tmplProps?: unknown;
}

const loaders = new WeakMap<object, StringTemplateLoader>();
let wrapped = false;

function wrapCompileOnce(): void {
  if (wrapped) return;
  wrapped = true;
  const proto = (nunjucksModule as unknown as { Template: { prototype: { _compile(): void } } }).Template
    .prototype;
  const compile = proto._compile;
  proto._compile = function compileThroughBcc(this: TemplateInternals) {
    const loader = this.tmplProps ? undefined : loaders.get(this.env);
    if (loader && typeof this.tmplStr === 'string') {
      const props = loader.load(this.tmplStr);
      if (props) this.tmplProps = props;
    }
    return compile.call(this);
  };
}

/** Sends `env`'s string templates through `loader`; returns the function that stops it. */
export function cacheStringTemplates(env: object, loader: StringTemplateLoader): () => void {
  wrapCompileOnce();
  loaders.set(env, loader);
  return () => {
    if (loaders.get(env) === loader) loaders.delete(env);
  };
}
