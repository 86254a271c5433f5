import { BccBackendError, BccConfigError, isBccError } from './errors.js';

/** Error codes that say something about an entry or the configuration, not that the store is down. */
const NOT_A_STORE_FAILURE = new Set([
  'ERR_BCC_ENTRY_TOO_LARGE',
  'ERR_BCC_REJECTED_ENTRY',
  'ERR_BCC_INSECURE_DIRECTORY',
  'ERR_BCC_CONFIG',
  'ERR_BCC_UNSUPPORTED',
]);

/** True when `error` means the store itself failed (down, timed out, refused), which opens a breaker. */
export function isStoreFailure(error: unknown): boolean {
  return !(isBccError(error) && NOT_A_STORE_FAILURE.has(error.code));
}

/** Options of the circuit breaker every cache puts in front of its store. */
export interface CircuitBreakerOptions {
  /** Milliseconds the store is skipped after a failure; doubles after each failed probe. Default 1000. */
  backoff?: number;
  /** The longest back-off, in milliseconds. Default 30000. */
  maxBackoff?: number;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Stops calling a store that just failed. A dead or unreachable store costs a full timeout on
 * every call (5 s for an S3 endpoint that drops packets, on every template of every render);
 * after one failure the breaker "opens": calls miss at once for `backoff` ms. Then one call
 * goes through as a probe (the others keep missing while it runs): success closes the breaker,
 * failure opens it again for twice as long, up to `maxBackoff`.
 */
export class CircuitBreaker {
  readonly #initial: number;
  readonly #max: number;
  #backoff: number;
  #openUntil = 0;
  #probing = false;
  /** Calls skipped because the breaker was open. */
  skipped = 0;
  /** Times the breaker opened. */
  opened = 0;
  /** The failure that opened it last. */
  lastFailure: unknown = undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#initial = checkedMs('breaker.backoff', options.backoff, 1000);
    this.#max = checkedMs('breaker.maxBackoff', options.maxBackoff, 30_000);
    if (this.#max < this.#initial) {
      throw new BccConfigError(
        `breaker.maxBackoff (${this.#max}) must be at least breaker.backoff (${this.#initial})`,
      );
    }
    this.#backoff = this.#initial;
  }

  /** True while calls are being skipped. */
  get isOpen(): boolean {
    return this.#openUntil !== 0;
  }

  /** May a call go to the store now? Counts the calls it turns away. */
  allow(): boolean {
    if (this.#openUntil === 0) return true;
    if (this.#probing || performance.now() < this.#openUntil) {
      this.skipped++;
      return false;
    }
    this.#probing = true;
    return true;
  }

  /** The store answered: close the breaker. */
  success(): void {
    if (this.#openUntil === 0) return;
    this.#openUntil = 0;
    this.#probing = false;
    this.#backoff = this.#initial;
  }

  /** Records how a call ended: without an error, or with one that is not the store's, it closes. */
  settle(error?: unknown): void {
    if (error !== undefined && isStoreFailure(error)) this.failure(error);
    else this.success();
  }

  /** The store failed (down, timed out, refused): skip it for the back-off period. */
  failure(error?: unknown): void {
    this.lastFailure = error;
    if (this.#openUntil === 0) this.opened++;
    // Already open and no probe out: a call that started before it opened; keep the window.
    else if (!this.#probing) return;
    this.#probing = false;
    this.#openUntil = performance.now() + this.#backoff;
    this.#backoff = Math.min(this.#backoff * 2, this.#max);
  }
}

function checkedMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isFinite(value) && value >= 1 && value <= MAX_TIMER_MS)) {
    throw new BccConfigError(
      `${name} must be a number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${String(value)}`,
    );
  }
  return value;
}

/**
 * The error a call stands for when the open breaker turned it away and the cache was made with
 * `ignoreErrors: false`: it names what was skipped and carries the failure that opened it.
 */
export function skippedCallError(
  backend: string,
  operation: string,
  subject: string,
  breaker: CircuitBreaker,
): BccBackendError {
  const last = breaker.lastFailure;
  const cause = last instanceof Error ? last : new Error(String(last));
  return new BccBackendError(
    backend,
    operation,
    `${subject} ${operation} skipped: the store failed moments ago and is being left alone for a while (circuit breaker); last failure: ${cause.message}`,
    { cause },
  );
}
