/**
 * Tar chunk buffers of `tarChunkSize` bytes, handed back once the encryptor is done with them
 * (seipdStream.ts's `recycle`) and filled again. A stream that recycles lets the encryptor
 * transfer each chunk to its worker thread instead of copying it, and allocates a handful of
 * buffers for the whole archive instead of one per MiB: every fresh buffer is memory outside
 * V8's heap, which V8 answers with a full collection every few dozen MiB of it. The version 2
 * writer reads files into such buffers too (incremental/archiveWriter.ts).
 */
/** Recycled chunk buffers kept for reuse at most. */
const poolLimit = 8;

export class ChunkPool {
  private readonly free: Buffer[] = [];

  constructor(readonly chunkSize: number) {}

  /** A buffer of `chunkSize` bytes, recycled if one is free (its content is stale). */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.chunkSize);
  }

  /** Takes back a whole chunk this pool gave out and nothing holds any more; ignores anything else. */
  give(chunk: Buffer): void {
    if (chunk.byteOffset === 0 && chunk.length === this.chunkSize && chunk.buffer.byteLength === this.chunkSize && this.free.length < poolLimit) {
      this.free.push(chunk);
    }
  }
}
