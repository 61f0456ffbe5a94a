/**
 * The time the local runtime reads and waits on: visibility timeouts, delays, retention, long polls,
 * batching windows, move-task rates and EventBridge retry backoff all go through one `Clock`. The
 * runtime uses the real one; a test hands in a clock it moves itself (test/support/clock.ts), so it
 * can drive time past the point where something would happen instead of sleeping until it does.
 *
 * What runs in other processes (a function's timeout, a child's kill) keeps real time: a clock of
 * ours cannot make a child process run faster.
 */

/** A scheduled callback; `cancel()` is safe to call more than once, and after it ran. */
export interface Timer {
  cancel(): void;
}

export interface TimerOptions {
  /** Do not keep the process alive for this timer alone (Node's `unref`). @default false */
  readonly unref?: boolean;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `callback` once, `ms` from now (at once for `ms <= 0`, on a later turn of the loop). */
  after(ms: number, callback: () => void, options?: TimerOptions): Timer;
  /** Calls `callback` every `ms` until cancelled. */
  every(ms: number, callback: () => void, options?: TimerOptions): Timer;
}

/** The clock of the machine: `Date.now()`, `setTimeout`, `setInterval`. */
export const realClock: Clock = {
  now: () => Date.now(),
  after(ms, callback, options = {}) {
    const timer = setTimeout(callback, Math.max(0, ms));
    if (options.unref) timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
  every(ms, callback, options = {}) {
    const timer = setInterval(callback, ms);
    if (options.unref) timer.unref();
    return { cancel: () => clearInterval(timer) };
  },
};
