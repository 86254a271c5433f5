import type { Bucket } from './bucket.js';
import type { RejectReason } from './format.js';

const { tracingChannel } = process.getBuiltinModule('node:diagnostics_channel');

/**
 * bcc's `node:diagnostics_channel` tracing channels, for operators' spans and metrics. Each
 * publishes `start`/`end` (and `asyncStart`/`asyncEnd`/`error` for asynchronous work) with one
 * context object per operation that bcc fills in before `end`. When nobody subscribes, bcc
 * skips them entirely (one `hasSubscribers` check per operation).
 *
 * ```js
 *  * tracingChannel('bcc:load').subscribe({
 *   start(ctx) { ctx.t0 = performance.now(); },
 *   end(ctx) { if (!ctx.async) console.log(ctx.name, ctx.outcome, performance.now() - ctx.t0); },
 *   asyncEnd(ctx) { console.log(ctx.name, ctx.outcome, performance.now() - ctx.t0); },
 *   asyncStart() {}, error() {},
 * });
 * ```
 */

/** What every context says: whether the operation ends at `end` (sync) or at `asyncEnd`. */
export interface TraceContextBase {
  /** `true`: the operation is finished at `asyncEnd`/`error`; `false`: at `end`/`error`. */
  async: boolean;
}

/** Context of `bcc:load`: one entry looked up in a store. */
export interface LoadTraceContext extends TraceContextBase {
  /** Template name (the key is a hash). */
  name: string;
  /** The store, as `cache.storeName` (never a password). */
  store: string;
  /** Filled in before `end`: the entry key. */
  key?: string;
  /** `hit`, `miss`, or `rejected` (see `reason`). */
  outcome?: 'hit' | 'miss' | 'rejected';
  reason?: RejectReason;
  /** Bytes read from the store. */
  bytes?: number;
}

/** Context of `bcc:compile`: the engine compiled a template bcc did not find. */
export interface CompileTraceContext extends TraceContextBase {
  name: string;
  /** The engine, as its environment describes itself (`nunjucks@3.2.4`), or its fingerprint. */
  engine: string;
  /** Filled in before `end`: characters of JavaScript made. */
  jsLength?: number;
}

/** Context of `bcc:store`: one entry written to a store. */
export interface StoreTraceContext extends TraceContextBase {
  name: string;
  store: string;
  key: string;
  bytes: number;
  /** Filled in before `end`: whether the store took the entry. */
  stored?: boolean;
}

/** The channels, by name: `bcc:load`, `bcc:compile`, `bcc:store`. */
export const traceChannels = {
  load: tracingChannel<LoadTraceContext>('bcc:load'),
  compile: tracingChannel<CompileTraceContext>('bcc:compile'),
  store: tracingChannel<StoreTraceContext>('bcc:store'),
} as const;

/** Fills a load context from the bucket a store filled (or did not). */
export function describeLoad(context: LoadTraceContext, bucket: Bucket): void {
  context.key = bucket.key;
  const outcome = bucket.lastLoad;
  if (bucket.code) context.outcome = 'hit';
  else if (outcome?.status === 'rejected') {
    context.outcome = 'rejected';
    context.reason = outcome.reason;
  } else context.outcome = 'miss';
  context.bytes = outcome && outcome.status !== 'miss' ? outcome.bytes : 0;
}
