import { tracingChannel } from 'node:diagnostics_channel';
import type { CompileTraceContext, LoadTraceContext, StoreTraceContext } from '@bcc/core';

/** One finished bcc operation, as a listener sees it. */
export type Finished =
  | { operation: 'load'; context: LoadTraceContext; started: number; ms: number; error?: unknown }
  | { operation: 'compile'; context: CompileTraceContext; started: number; ms: number; error?: unknown }
  | { operation: 'store'; context: StoreTraceContext; started: number; ms: number; error?: unknown };

type Any = (LoadTraceContext | CompileTraceContext | StoreTraceContext) & {
  [started]?: number;
  [failure]?: unknown;
};
const started = Symbol('bcc.started');
const failure = Symbol('bcc.error');

/**
 * Calls `listener` once per finished bcc operation (`bcc:load`, `bcc:compile`, `bcc:store`),
 * with its duration: at `end` for synchronous operations, at `asyncEnd` for asynchronous ones
 * (each context says which). Returns a function that unsubscribes.
 */
export function onFinished(listener: (finished: Finished) => void): () => void {
  const subscriptions = (['load', 'compile', 'store'] as const).map((operation) => {
    const channel = tracingChannel(`bcc:${operation}`);
    const done = (context: Any) => {
      const at = context[started] ?? performance.now();
      const error = context[failure];
      listener({
        operation,
        context,
        started: performance.timeOrigin + at,
        ms: performance.now() - at,
        ...(error === undefined ? {} : { error }),
      } as Finished);
    };
    const handlers = {
      start: (context: Any) => {
        context[started] = performance.now();
      },
      end: (context: Any) => {
        if (!context.async) done(context);
      },
      asyncStart: () => {},
      asyncEnd: (context: Any) => done(context),
      error: (context: Any & { error?: unknown }) => {
        context[failure] = context.error;
      },
    };
    channel.subscribe(handlers as never);
    return () => channel.unsubscribe(handlers as never);
  });
  return () => {
    for (const unsubscribe of subscriptions) unsubscribe();
  };
}
