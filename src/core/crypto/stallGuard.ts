/**
 * A watch on openpgp.js's streaming decryption, for the messages our reader leaves to it. On some
 * plaintext that does not authenticate (a wrong passphrase opening a passphrase packet to a
 * Twofish key makes such garbage now and then: openpgp.ts decryptStream), openpgp.js stops: no
 * more reads of the source, no output, and nothing left pending. A CLI then just exits; VS Code's
 * job would wait forever. Messages read whole avoid it by authenticating first; archives are too
 * large for that, so this watch fails the decryption instead.
 *
 * Stalled means: while someone waits on openpgp.js, it has neither read the source nor given
 * anything for `limitMs`, and it is not waiting on the source (a slow network is not a stall).
 * The timer runs only while someone waits, and is cleared as soon as the wait ends.
 */
export class StallGuard {
  private last = Date.now();
  private pulling = 0;
  /** The error given when a stall was found, to tell it from openpgp.js's own. */
  failure?: Error;

  constructor(
    private readonly limitMs: number,
    private readonly stalled: () => Error,
  ) {}

  /** `source`, with each read noted. */
  async *watch(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const it = source[Symbol.asyncIterator]();
    try {
      for (;;) {
        this.pulling++;
        let r: IteratorResult<Uint8Array>;
        try {
          r = await it.next();
        } finally {
          this.pulling--;
          this.last = Date.now();
        }
        if (r.done) return;
        yield r.value;
      }
    } finally {
      await it.return?.();
    }
  }

  /** `work`, or the stall error if openpgp.js stalls before it settles. */
  guard<T>(work: Promise<T>): Promise<T> {
    this.last = Date.now();
    return new Promise<T>((resolve, reject) => {
      const timer = setInterval(() => {
        if (this.pulling > 0 || Date.now() - this.last <= this.limitMs) return;
        clearInterval(timer);
        this.failure = this.stalled();
        reject(this.failure);
      }, Math.min(1000, this.limitMs));
      work.then(
        (value) => {
          clearInterval(timer);
          resolve(value);
        },
        (err: unknown) => {
          clearInterval(timer);
          reject(err);
        },
      );
    });
  }

  /** `stream` (openpgp.js's output), each read guarded. */
  async *output(stream: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const it = stream[Symbol.asyncIterator]();
    try {
      for (;;) {
        const r = await this.guard(it.next());
        if (r.done) return;
        yield r.value;
      }
    } finally {
      void it.return?.()?.catch(() => undefined);
    }
  }
}
