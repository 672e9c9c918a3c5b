/**
 * The hand-over between a worker thread's replies and the one consumer that awaits them
 * (seipdStream.ts's cipher worker, deflatePool.ts's deflate workers): a reply goes to the waiting
 * consumer if there is one; the workers' first failure rejects the waiting consumer and every
 * later wait.
 */
export class ReplyWait<T> {
  private waiter?: { resolve: (value: T) => void; reject: (err: Error) => void };
  private failure?: Error;

  /** Whether a consumer waits. */
  get waiting(): boolean {
    return this.waiter !== undefined;
  }

  /** The next value given, or the failure. One wait at a time. */
  wait(): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Gives `value` to the waiting consumer; false when none waits (the caller keeps it). */
  give(value: T): boolean {
    if (!this.waiter) return false;
    this.waiter.resolve(value);
    this.waiter = undefined;
    return true;
  }

  /** Records the first failure and rejects the waiting consumer with it. */
  fail(err: Error): void {
    this.failure ??= err;
    this.waiter?.reject(this.failure);
    this.waiter = undefined;
  }

  get failed(): Error | undefined {
    return this.failure;
  }
}
