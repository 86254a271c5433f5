import type { RenderFunction, TemplateProps } from './internals.js';
import type { ReadyTemplate } from './ready.js';

/**
 * Decides when each template's V8 code cache is taken: once its first render is over, and not
 * before the outermost render running it is over too.
 *
 * V8 compiles a function the first time it runs, and a code cache holds only what was compiled
 * when it was taken. A template's own `root` finishing is not enough: `{% import %}` and
 * `{% from … import %}` run the macro file's `root`, which only defines the macros, and the page
 * calls them afterwards. A cache taken when that `root` finished left every macro body to be
 * compiled again by V8 in each process that loaded it (in a warm `pnpm bench` process, 18 template
 * functions; 5 now: macros that only a later page calls).
 * So a template whose first render finishes inside another template's first render waits for the
 * outer one, and they are stored together — still before the render returns, so a process that
 * renders once and exits leaves complete entries.
 *
 * Nunjucks renders in continuation-passing style: a `root` is running from its call until it calls
 * back, however deep the stack is by then; that is what is counted. If a render never calls back
 * (an async filter that never answers), what waits is stored after the current work rather than
 * never.
 */
export function firstRenderWatcher(
  persist: (template: ReadyTemplate) => void,
): (props: TemplateProps, template: ReadyTemplate) => TemplateProps {
  let running = 0;
  let waiting: ReadyTemplate[] = [];
  let fallbackScheduled = false;

  const storeWaiting = () => {
    const ready = waiting;
    waiting = [];
    for (const template of ready) persist(template);
  };
  const scheduleFallback = () => {
    if (fallbackScheduled) return;
    fallbackScheduled = true;
    setImmediate(() => {
      fallbackScheduled = false;
      storeWaiting();
    });
  };

  return (props, template) => {
    const root = props.root;
    let done = false;
    const wrapped: RenderFunction = function (this: unknown, env, context, frame, runtime, cb) {
      if (done) return root.call(this, env, context, frame, runtime, cb);
      running++;
      let over = false;
      const end = () => {
        if (over) return;
        over = true;
        running--;
        if (running === 0) storeWaiting();
        else if (waiting.length > 0) scheduleFallback();
      };
      try {
        return root.call(this, env, context, frame, runtime, (error, result) => {
          if (!error && !done) {
            done = true;
            waiting.push(template);
          }
          end();
          cb(error, result);
        });
      } catch (error) {
        end();
        throw error;
      }
    };
    return { ...props, root: wrapped };
  };
}
