/**
 * The deflate stream of an archive's Literal Data packet (compress.ts), made on worker threads,
 * one per core (`os.availableParallelism()`), as pigz makes it: the packet is cut into blocks of
 * about `chunkSize` bytes, each block goes to a worker with the 32 KiB before it as its
 * dictionary, and the outputs are joined in order.
 *
 * Adaptive: a worker looks at each quarter-MiB segment of its block before deflating it. A byte
 * histogram of a few samples (16 KiB) estimates its entropy; at more than 7.8 bits per byte
 * (random data, media, archives, encrypted files: Huffman coding alone would save under 3 %) the
 * segment is written as stored blocks, a copy at memory speed, and otherwise deflated. Deflate at
 * level 1 runs at about 40 MB/s on such data, and a trial deflate of a sample costs as much per
 * sampled byte, so the estimate is the cheaper judge.
 *
 * Guarantees: the output is the same whatever the number of workers or how the source is
 * chunked (each block depends only on its bytes, its dictionary and the level). Back-pressure: at
 * most `2 × workers` blocks are at the workers or waiting to be taken; the source is read only as
 * fast as the output is consumed. Each yielded buffer owns its whole ArrayBuffer (the encryption
 * worker may take it). Stopping early ends the workers; a worker failure fails the stream.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { processV8Flags } from '../util/v8Flags';
import { finalBlock, LiteralBlocks, WindowTail } from './compress';
import { asBuffer } from './seipd';

export interface DeflateOptions {
  level: number;
  /** The literal packet's partial length (seipd.ts): also the size of a block. */
  chunkSize: number;
  /** Worker threads (default: one per core). */
  workers?: number;
  /** Hands a source chunk back once its bytes are copied (see seipdStream.ts's option). */
  recycle?: (chunk: Buffer) => void;
}

/** How much of the literal packet was deflated and how much stored; set when the stream has ended. */
export interface DeflateStats {
  literalBytes: number;
  deflatedBytes: number;
  storedBytes: number;
  outputBytes: number;
}

export interface DeflateStream extends AsyncIterable<Buffer> {
  readonly stats: DeflateStats;
}

/** The raw deflate stream whose inflation is the Literal Data packet of `source`. Iterate once. */
export function deflateLiteral(source: AsyncIterable<Uint8Array>, options: DeflateOptions): DeflateStream {
  const stats: DeflateStats = { literalBytes: 0, deflatedBytes: 0, storedBytes: 0, outputBytes: 0 };
  const gen = run(source, options, stats);
  return { [Symbol.asyncIterator]: () => gen, stats };
}

async function* run(source: AsyncIterable<Uint8Array>, options: DeflateOptions, stats: DeflateStats): AsyncGenerator<Buffer> {
  const workers = options.workers ?? availableParallelism();
  const maxInFlight = 2 * workers;
  const pool = new DeflateWorkers(workers, options.level, LiteralBlocks.bufferSize(options.chunkSize), maxInFlight, stats);
  const literal = new LiteralBlocks(options.chunkSize, () => pool.take());
  const window = new WindowTail();
  const blocks: Buffer[] = [];
  const send = (block: Buffer): void => {
    const dictionary = window.get();
    window.add(block);
    stats.literalBytes += block.byteLength;
    pool.send(block, dictionary);
  };
  const counted = (out: Buffer): Buffer => {
    stats.outputBytes += out.byteLength;
    return out;
  };
  try {
    for await (const chunk of source) {
      literal.push(chunk, blocks);
      options.recycle?.(asBuffer(chunk));
      for (const block of blocks.splice(0)) {
        send(block);
        while (pool.inFlight >= maxInFlight) yield counted(await pool.next());
      }
      while (pool.ready) yield counted(await pool.next());
    }
    literal.end(blocks);
    for (const block of blocks.splice(0)) send(block);
    while (pool.inFlight > 0) yield counted(await pool.next());
    const last = Buffer.allocUnsafeSlow(finalBlock.byteLength);
    finalBlock.copy(last);
    yield counted(last);
  } finally {
    pool.close();
  }
}

interface Reply {
  seq: number;
  out: Uint8Array;
  returned: ArrayBuffer;
  deflated: number;
  stored: number;
}

/** The worker threads; blocks go to the least busy one, outputs come back in the order sent. */
class DeflateWorkers {
  private readonly workers: { worker: Worker; pending: number }[] = [];
  private readonly outputs = new Map<number, Buffer>();
  private readonly free: Buffer[] = [];
  private waiter?: { resolve: (out: Buffer) => void; reject: (e: Error) => void };
  private failure?: Error;
  private sent = 0;
  private taken = 0;

  constructor(
    count: number,
    level: number,
    private readonly bufferSize: number,
    private readonly keepFree: number,
    stats: DeflateStats,
  ) {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(workerSource, { eval: true, workerData: { level, v8Flags: processV8Flags() }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      const slot = { worker, pending: 0 };
      worker.on('message', (m: Reply) => {
        slot.pending--;
        stats.deflatedBytes += m.deflated;
        stats.storedBytes += m.stored;
        if (this.free.length < this.keepFree) this.free.push(Buffer.from(m.returned));
        this.outputs.set(m.seq, asBuffer(m.out));
        this.wake();
      });
      worker.on('error', (err) => this.fail(err));
      worker.on('exit', (code) => {
        if (slot.pending > 0) this.fail(new Error(`the compression worker stopped (exit code ${code})`));
      });
      this.workers.push(slot);
    }
  }

  /** A buffer to fill with the next block: one handed back by a worker, or a new one. */
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(this.bufferSize);
  }

  /** Blocks sent whose output was not taken yet. */
  get inFlight(): number {
    return this.sent - this.taken;
  }

  /** Whether the next output in order is here. */
  get ready(): boolean {
    return this.outputs.has(this.taken);
  }

  /** Hands `block` (a view of a buffer from `take`, given up here) to a worker. */
  send(block: Buffer, dictionary: Buffer): void {
    const slot = this.workers.reduce((a, b) => (b.pending < a.pending ? b : a));
    slot.pending++;
    const buffer = block.buffer as ArrayBuffer;
    slot.worker.postMessage({ seq: this.sent++, buffer, start: block.byteOffset, end: block.byteOffset + block.byteLength, dictionary }, [buffer]);
  }

  /** The next output in order. */
  next(): Promise<Buffer> {
    if (this.failure) return Promise.reject(this.failure);
    const out = this.outputs.get(this.taken);
    if (out) {
      this.outputs.delete(this.taken++);
      return Promise.resolve(out);
    }
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  close(): void {
    for (const { worker } of this.workers) void worker.terminate();
  }

  private wake(): void {
    const out = this.outputs.get(this.taken);
    if (!out || !this.waiter) return;
    this.outputs.delete(this.taken++);
    this.waiter.resolve(out);
    this.waiter = undefined;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.waiter?.reject(this.failure);
    this.waiter = undefined;
  }
}

/**
 * The worker's code, as source text so that no bundler or loader rewrites it (as seipdStream.ts's).
 * For each block: per segment of 256 KiB, stored blocks (5 octets of header per 65,535 bytes) when
 * its sampled entropy is above the threshold, else deflateRaw at the level with the 32 KiB before
 * it as dictionary, ended by a sync flush. The output is one buffer, transferred; the block's
 * buffer goes back for reuse.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
if (workerData.v8Flags) require('node:v8').setFlagsFromString(workerData.v8Flags);
const level = workerData.level;
const segmentSize = 1 << 18, window = 1 << 15, maxStored = 65535;
const samples = 4, sampleSize = 4096, storedAbove = 7.8;
const counts = new Float64Array(256);
function entropy(seg) {
  counts.fill(0);
  let n = 0;
  const add = (from, to) => { for (let i = from; i < to; i++) counts[seg[i]]++; n += to - from; };
  if (seg.length <= samples * sampleSize) add(0, seg.length);
  else for (let s = 0; s < samples; s++) { const at = Math.floor((seg.length - sampleSize) * s / (samples - 1)); add(at, at + sampleSize); }
  let h = 0;
  for (let b = 0; b < 256; b++) if (counts[b] > 0) { const p = counts[b] / n; h -= p * Math.log2(p); }
  return h;
}
parentPort.on('message', ({ seq, buffer, start, end, dictionary }) => {
  const block = Buffer.from(buffer, start, end - start);
  const out = [];
  let total = 0, deflated = 0, stored = 0;
  for (let at = 0; at < block.length; at += segmentSize) {
    const seg = block.subarray(at, Math.min(at + segmentSize, block.length));
    if (entropy(seg) > storedAbove) {
      for (let i = 0; i < seg.length; i += maxStored) {
        const n = Math.min(maxStored, seg.length - i);
        const head = Buffer.allocUnsafe(5);
        head[0] = 0;
        head.writeUInt16LE(n, 1);
        head.writeUInt16LE(n ^ 0xffff, 3);
        out.push(head, seg.subarray(i, i + n));
        total += 5 + n;
      }
      stored += seg.length;
    } else {
      const dict = at === 0 ? Buffer.from(dictionary.buffer, dictionary.byteOffset, dictionary.byteLength) : block.subarray(Math.max(0, at - window), at);
      const piece = zlib.deflateRawSync(seg, dict.length > 0 ? { level, finishFlush: zlib.constants.Z_SYNC_FLUSH, dictionary: dict } : { level, finishFlush: zlib.constants.Z_SYNC_FLUSH });
      out.push(piece);
      total += piece.length;
      deflated += seg.length;
    }
  }
  const joined = Buffer.allocUnsafeSlow(total);
  let pos = 0;
  for (const piece of out) pos += piece.copy(joined, pos);
  parentPort.postMessage({ seq, out: joined, returned: buffer, deflated, stored }, [joined.buffer, buffer]);
});
`;
