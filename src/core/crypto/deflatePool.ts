/**
 * The deflate stream of an archive's Literal Data packet (compress.ts), made on worker threads,
 * one per core (`os.availableParallelism()`), as pigz makes it: the packet is cut into blocks of
 * about `chunkSize` bytes, each block goes to a worker with the 32 KiB before it as its
 * dictionary, and the outputs are joined in order.
 *
 * Adaptive: each quarter-MiB segment of a block is judged on this thread first (compress.ts's
 * `incompressible`, a byte histogram of 16 KiB of samples). A block with nothing to deflate
 * (random data, media, archives, encrypted files), or less than 64 KiB of it, is encoded right
 * here (stored blocks are a copy at memory speed) and never goes to a worker. So are the first
 * blocks to deflate, up to `workersAfter` bytes of them: starting a worker costs about 0.1 s of
 * CPU (a Node environment to boot), more than deflating 4 MiB at level 1 here, so a small
 * archive (a daily increment of a few changed files) starts none. Every block is encoded by
 * compress.ts's `encodeBlock`, here or in a worker.
 *
 * Guarantees: the output is the same whatever the number of workers or how the source is
 * chunked (each block depends only on its bytes, its dictionary and the level). Back-pressure: at
 * most `workers + 1` blocks are at the workers or waiting to be taken; the source is read only as
 * fast as the output is consumed. Each yielded buffer owns its whole ArrayBuffer (the encryption
 * worker may take it). Stopping early ends the workers; a worker failure fails the stream.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { processV8Flags, youngCollectionsEnabled } from '../util/v8Flags';
import * as zlib from 'node:zlib';
import { encodeBlock, finalBlock, judge, LiteralBlocks, segmentSize, WindowTail } from './compress';
import { ReplyWait } from './replyWait';
import { asBuffer } from './seipd';

export interface DeflateOptions {
  level: number;
  /** The literal packet's partial length (seipd.ts): also the size of a block. */
  chunkSize: number;
  /** Worker threads (default: one per core). */
  workers?: number;
  /** Bytes to deflate on this thread before the workers start (default: 4 MiB at level 1, 1 MiB above). */
  workersAfter?: number;
  /** Hands a source chunk back once its bytes are copied (see seipdStream.ts's option). */
  recycle?: (chunk: Buffer) => void;
}

/** How much of the literal packet was deflated and how much stored; set when the stream has ended. */
export interface DeflateStats {
  literalBytes: number;
  deflatedBytes: number;
  storedBytes: number;
  outputBytes: number;
  /** Worker threads started. */
  workers: number;
}

export interface DeflateStream extends AsyncIterable<Buffer> {
  readonly stats: DeflateStats;
}

/** The raw deflate stream whose inflation is the Literal Data packet of `source`. Iterate once. */
export function deflateLiteral(source: AsyncIterable<Uint8Array>, options: DeflateOptions): DeflateStream {
  const stats: DeflateStats = { literalBytes: 0, deflatedBytes: 0, storedBytes: 0, outputBytes: 0, workers: 0 };
  const gen = run(source, options, stats);
  return { [Symbol.asyncIterator]: () => gen, stats };
}

/** Blocks with fewer bytes than this to deflate are encoded on this thread (under a millisecond at level 1). */
const onThisThreadBelow = 1 << 16;

async function* run(source: AsyncIterable<Uint8Array>, options: DeflateOptions, stats: DeflateStats): AsyncGenerator<Buffer> {
  const workers = options.workers ?? availableParallelism();
  const maxInFlight = workers + 1;
  const pool = new DeflateWorkers(workers, options.level, LiteralBlocks.bufferSize(options.chunkSize), maxInFlight + 1, stats);
  let hereBudget = options.workersAfter ?? (options.level <= 1 ? 4 << 20 : 1 << 20);
  const literal = new LiteralBlocks(options.chunkSize, () => pool.take());
  const window = new WindowTail();
  const blocks: Buffer[] = [];
  const send = (block: Buffer): void => {
    const dictionary = window.get();
    window.add(block);
    stats.literalBytes += block.byteLength;
    const stored = judge(block);
    // What has (almost) nothing to deflate is done here: no worker starts for it.
    const toDeflate = stored.reduce((n, s, k) => (s ? n : n + Math.min(segmentSize, block.byteLength - k * segmentSize)), 0);
    if (toDeflate > onThisThreadBelow && (pool.running || hereBudget <= 0)) pool.send(block, dictionary, stored);
    else {
      if (toDeflate > onThisThreadBelow) hereBudget -= toDeflate;
      const encoded = encodeBlock(zlib, block, dictionary, stored, options.level, segmentSize);
      stats.deflatedBytes += encoded.deflated;
      stats.storedBytes += encoded.stored;
      pool.done(encoded.out, block);
    }
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

/** The worker threads (started on first use); blocks go to the least busy one, outputs come back in the order sent. */
class DeflateWorkers {
  private readonly workers: { worker: Worker; pending: number }[] = [];
  private started = false;
  private readonly outputs = new Map<number, Buffer>();
  private readonly free: Buffer[] = [];
  private readonly reply = new ReplyWait<Buffer>();
  private sent = 0;
  private taken = 0;

  constructor(
    private readonly count: number,
    private readonly level: number,
    private readonly bufferSize: number,
    private readonly keepFree: number,
    private readonly stats: DeflateStats,
  ) {}

  get running(): boolean {
    return this.started;
  }

  private start(): void {
    this.started = true;
    this.stats.workers = this.count;
    for (let i = 0; i < this.count; i++) {
      const worker = new Worker(workerSource, { eval: true, workerData: { level: this.level, segmentSize, v8Flags: processV8Flags(), collectYoung: youngCollectionsEnabled() }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
      const slot = { worker, pending: 0 };
      worker.on('message', (m: Reply) => {
        slot.pending--;
        this.stats.deflatedBytes += m.deflated;
        this.stats.storedBytes += m.stored;
        this.put(m.seq, asBuffer(m.out), Buffer.from(m.returned));
      });
      worker.on('error', (err) => this.reply.fail(err));
      worker.on('exit', (code) => {
        if (slot.pending > 0) this.reply.fail(new Error(`the compression worker stopped (exit code ${code})`));
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

  /** Hands `block` (a view of a buffer from `take`, given up here) to a worker, with which segments to store. */
  send(block: Buffer, dictionary: Buffer, stored: boolean[]): void {
    if (!this.started) this.start();
    const slot = this.workers.reduce((a, b) => (b.pending < a.pending ? b : a));
    slot.pending++;
    const buffer = block.buffer as ArrayBuffer;
    slot.worker.postMessage({ seq: this.sent++, buffer, start: block.byteOffset, end: block.byteOffset + block.byteLength, dictionary, stored }, [buffer]);
  }

  /** The next block's output, made on this thread; `block` may be filled again. */
  done(out: Buffer, block: Buffer): void {
    this.put(this.sent++, out, Buffer.from(block.buffer, 0, block.buffer.byteLength));
  }

  private put(seq: number, out: Buffer, returned: Buffer): void {
    if (this.free.length < this.keepFree) this.free.push(returned);
    this.outputs.set(seq, out);
    this.wake();
  }

  /** The next output in order. */
  next(): Promise<Buffer> {
    if (this.reply.failed) return Promise.reject(this.reply.failed);
    const out = this.outputs.get(this.taken);
    if (!out) return this.reply.wait();
    this.outputs.delete(this.taken++);
    return Promise.resolve(out);
  }

  close(): void {
    for (const { worker } of this.workers) void worker.terminate();
  }

  private wake(): void {
    const out = this.outputs.get(this.taken);
    if (out && this.reply.give(out)) this.outputs.delete(this.taken++);
  }
}

/**
 * The worker's code, as source text so that no bundler or loader rewrites it (as seipdStream.ts's),
 * around compress.ts's self-contained `encodeBlock`. The output is transferred; the block's buffer
 * goes back for reuse. Each block leaves about a megabyte of dead buffers behind (zlib's outputs
 * before they are joined), outside the worker's heap, which V8 collects only after some 64 MB of
 * them: where the front end allows explicit collections (v8Flags.ts), a minor one after each
 * block keeps that near zero (measured on 6,000 small text files: 148 → 112 MB peak RSS, against 98 MB without compression).
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const zlib = require('node:zlib');
if (workerData.v8Flags) require('node:v8').setFlagsFromString(workerData.v8Flags);
let collect;
if (workerData.collectYoung) {
  require('node:v8').setFlagsFromString('--expose-gc');
  collect = require('node:vm').runInNewContext('gc');
}
const encodeBlock = (${encodeBlock.toString()});
parentPort.on('message', ({ seq, buffer, start, end, dictionary, stored }) => {
  const block = Buffer.from(buffer, start, end - start);
  const dict = Buffer.from(dictionary.buffer, dictionary.byteOffset, dictionary.byteLength);
  const r = encodeBlock(zlib, block, dict, stored, workerData.level, workerData.segmentSize);
  parentPort.postMessage({ seq, out: r.out, returned: buffer, deflated: r.deflated, stored: r.stored }, [r.out.buffer, buffer]);
  if (collect) collect({ type: 'minor' });
});
`;
