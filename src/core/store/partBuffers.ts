/**
 * Part buffers kept for reuse: by the parts of one upload, and by the next upload given the same
 * pool (a backup's manifest reuses its archive's buffers, so it costs no new memory). Holds at
 * most `keep` free buffers.
 */
export class PartBuffers {
  private readonly free: Buffer[] = [];
  /** How many buffers were allocated so far. */
  made = 0;

  constructor(private readonly keep = 8) {}

  /** A buffer of at least `size` bytes (its contents are garbage). */
  take(size: number): Buffer {
    const i = this.free.findIndex((b) => b.byteLength >= size);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    this.made++;
    return Buffer.allocUnsafeSlow(size);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}
