/**
 * Failed logins per client address: a fixed budget per window. Past the budget, the address is
 * refused (429 with Retry-After) until the window ends, even with a correct token, so guessing
 * tokens costs a window per few guesses. Memory is bounded: at most `maxAddresses` are tracked,
 * the oldest dropped first.
 */

export interface RateLimitOptions {
  /** Failures allowed per window. */
  maxFailures: number;
  windowMs: number;
  maxAddresses: number;
  now: () => number;
}

interface Window {
  start: number;
  failures: number;
}

export class FailedLoginLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly options: RateLimitOptions;

  constructor(options: Partial<RateLimitOptions> = {}) {
    this.options = {
      maxFailures: options.maxFailures ?? 10,
      windowMs: options.windowMs ?? 60_000,
      maxAddresses: options.maxAddresses ?? 10_000,
      now: options.now ?? Date.now,
    };
  }

  private current(address: string): Window | undefined {
    const w = this.windows.get(address);
    if (w && this.options.now() - w.start >= this.options.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }

  /** Milliseconds until this address may try again, or 0 if it may now. */
  retryAfterMs(address: string): number {
    const w = this.current(address);
    if (!w || w.failures < this.options.maxFailures) return 0;
    return Math.max(1, w.start + this.options.windowMs - this.options.now());
  }

  recordFailure(address: string): void {
    const w = this.current(address);
    if (w) {
      w.failures++;
      return;
    }
    if (this.windows.size >= this.options.maxAddresses) {
      const oldest = this.windows.keys().next().value;
      if (oldest !== undefined) this.windows.delete(oldest);
    }
    this.windows.set(address, { start: this.options.now(), failures: 1 });
  }
}
