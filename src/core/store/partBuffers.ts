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

  /**
   * A buffer of at least `size` bytes (its contents are garbage). Parts only grow within an upload
   * (partSchedule.ts): free buffers smaller than `size` are dropped, not kept beside the new ones.
   */
  take(size: number): Buffer {
    for (let j = this.free.length - 1; j >= 0; j--) if (this.free[j]!.byteLength < size) this.free.splice(j, 1);
    const i = this.free.findIndex((b) => b.byteLength >= size);
    if (i >= 0) return this.free.splice(i, 1)[0]!;
    this.made++;
    return Buffer.allocUnsafeSlow(size);
  }

  give(buffer: Buffer): void {
    if (this.free.length < this.keep) this.free.push(buffer);
  }
}
