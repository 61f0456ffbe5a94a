/**
 * A clock the test moves (lib/local/clock.ts): time stands still until `advance()` moves it and runs,
 * in time order, every timer that falls due on the way (timers those set are run too when they fall
 * due before the target). A test drives the runtime past the moment something would happen, then
 * asserts, instead of sleeping and hoping the moment has passed.
 */
import type { Clock, Timer, TimerOptions } from '../../lib/local/clock.ts';

interface Scheduled {
  at: number;
  readonly seq: number;
  readonly every: number | undefined;
  readonly callback: () => void;
  cancelled: boolean;
}

export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Set<Scheduled>();
  private watchers: Array<{ readonly at: number; readonly resolve: () => void }> = [];

  constructor(start = Date.parse('2026-11-20T10:00:00.000Z')) {
    this.current = start;
  }

  /** Epoch ms; a bound function, so `clock.now` can be handed on as a `() => number`. */
  readonly now = (): number => this.current;

  after(ms: number, callback: () => void, _options?: TimerOptions): Timer {
    return this.add(Math.max(0, ms), undefined, callback);
  }

  every(ms: number, callback: () => void, _options?: TimerOptions): Timer {
    return this.add(Math.max(1, ms), Math.max(1, ms), callback);
  }

  /**
   * Resolves once a timer is set to fall due at `at` (epoch ms) or later: the signal that whatever
   * sets it (a long poll, a retry) is now waiting, so moving the clock will reach it.
   */
  scheduled(at: number): Promise<void> {
    if ([...this.timers].some((t) => t.at >= at && t.every === undefined)) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ at, resolve }));
  }

  /**
   * Moves the time forward by `ms`, running every timer due on the way in order, each at its own time
   * (`now()` reads its due time while it runs); the time has moved when the call returns. The promise
   * then lets the work those timers started (promises, I/O callbacks already queued) run one turn of
   * the event loop.
   */
  async advance(ms: number): Promise<void> {
    const target = this.current + ms;
    for (;;) {
      const next = this.due(target);
      if (!next) break;
      this.current = Math.max(this.current, next.at);
      if (next.every === undefined) this.timers.delete(next);
      else next.at += next.every;
      next.callback();
    }
    this.current = target;
    await new Promise((resolve) => setImmediate(resolve));
  }

  private due(target: number): Scheduled | undefined {
    let best: Scheduled | undefined;
    for (const t of this.timers) {
      if (t.cancelled || t.at > target) continue;
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  private add(ms: number, every: number | undefined, callback: () => void): Timer {
    const timer: Scheduled = { at: this.current + ms, seq: this.seq++, every, callback, cancelled: false };
    this.timers.add(timer);
    if (every === undefined && this.watchers.length > 0) {
      const due = this.watchers.filter((w) => timer.at >= w.at);
      this.watchers = this.watchers.filter((w) => timer.at < w.at);
      for (const w of due) w.resolve();
    }
    // A timer due now runs on a later turn of the loop, as setTimeout(fn, 0) does.
    if (ms === 0 && every === undefined) setImmediate(() => this.fire(timer));
    return {
      cancel: () => {
        timer.cancelled = true;
        this.timers.delete(timer);
      },
    };
  }

  private fire(timer: Scheduled): void {
    if (timer.cancelled || !this.timers.has(timer)) return;
    this.timers.delete(timer);
    timer.callback();
  }
}
