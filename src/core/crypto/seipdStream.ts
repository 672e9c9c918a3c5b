/**
 * Streams plaintext through the SEIPD v1 writer (seipd.ts). The framing runs on the calling
 * thread; the cipher (AES-CFB and the MDC's SHA-1) runs either on that thread too or on a worker
 * thread, so that tar, file hashing and upload keep one core and encryption gets the other. With
 * a worker, the SHA-256 of the output is computed there too: the calling thread (walking, reading
 * and hashing files, tar, chunking big files, the upload) is the busier one (measured with perf:
 * 55 % of a backup's CPU against the worker's 33 % before the move).
 *
 * With a worker, no plaintext byte is copied on the calling thread: each source chunk is handed
 * to the worker (transferred when the caller gives it up, see `recycle`), the framing lays out
 * the output over spans of those chunks, and the worker's cipher output comes back transferred.
 *
 * Guarantees: the bytes are the same either way (see seipd.ts). Back-pressure is honoured: the
 * source is read only as fast as the output is consumed, with at most `maxInFlight` source
 * chunks at the worker. Stopping early (return/throw from the consumer) ends the worker and the
 * source; a worker failure fails the stream.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { processV8Flags, youngCollector } from '../util/v8Flags';
import { ReplyWait } from './replyWait';
import { asBuffer, checkParams, runSegments, SeipdFraming, SegmentCipher, type Bytes, type InnerPacket, type Segment, type SeipdParams } from './seipd';

export interface SeipdStreamOptions {
  /**
   * Where the cryptography runs: a worker thread or this thread. By default (with 2+ cores) the
   * first `workerAfter` bytes of the source are read before choosing: a source that ends within
   * them is encrypted here, as starting a worker costs about 0.1 s of CPU (a Node environment to
   * boot), more than encrypting 8 MiB here; a daily increment of a few MiB starts none.
   */
  thread?: 'worker' | 'main';
  /** See `thread` (default 8 MiB). */
  workerAfter?: number;
  /**
   * When given, the source's chunks are the stream's to take: each is handed to the worker
   * thread with its whole ArrayBuffer (not copied), and handed back through this once encrypted.
   * Without it, each chunk is copied once. Either way each chunk goes to the worker as one
   * message, so chunks of about 1 MiB suit it best (packTar's are exactly that).
   */
  recycle?: (chunk: Buffer) => void;
  /** The packet the source fills: the Literal Data packet (default), or ZIP with a deflate stream (compress.ts). */
  packet?: InnerPacket;
}

/** The OpenPGP message as a stream of byte chunks; once it has ended, what was written. */
export interface EncryptedStream extends AsyncIterable<Buffer> {
  /** Size and SHA-256 (hex) of all bytes yielded; set when the stream has ended. */
  readonly summary: { size: number; sha256: string } | undefined;
  /** Where the cryptography runs; set once chosen. */
  readonly thread: 'worker' | 'main' | undefined;
}

const maxInFlight = 4;

/** The OpenPGP message (binary) of the plaintext `source`. Iterate it once. */
export function encryptSeipd(source: AsyncIterable<Uint8Array>, params: SeipdParams, options: SeipdStreamOptions = {}): EncryptedStream {
  checkParams(params);
  const result: { summary?: { size: number; sha256: string }; thread?: 'worker' | 'main' } = {};
  const done = (summary: { size: number; sha256: string }): void => {
    result.summary = summary;
  };
  const start = (thread: 'worker' | 'main', from: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> => {
    result.thread = thread;
    return thread === 'worker' ? onWorker(from, params, done, options.recycle, options.packet) : onMain(from, params, done, options.packet);
  };
  const thread = options.thread ?? (availableParallelism() > 1 ? undefined : 'main');
  const gen = thread ? start(thread, source) : chosen(source, options.workerAfter ?? 8 << 20, start);
  return {
    [Symbol.asyncIterator]: () => gen,
    get summary() {
      return result.summary;
    },
    get thread() {
      return result.thread;
    },
  };
}

/** Reads up to `workerAfter` bytes of `source`, then encrypts it all here if it ended, else on a worker. */
async function* chosen(source: AsyncIterable<Uint8Array>, workerAfter: number, start: (thread: 'worker' | 'main', from: AsyncIterable<Uint8Array>) => AsyncGenerator<Buffer>): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let ended = false;
  try {
    for (let size = 0; size < workerAfter; ) {
      const r = await it.next();
      if (r.done) {
        ended = true;
        break;
      }
      head.push(r.value);
      size += r.value.byteLength;
    }
  } catch (err) {
    await it.return?.();
    throw err;
  }
  const all = (async function* (): AsyncGenerator<Uint8Array> {
    try {
      yield* head.splice(0);
      for (let r = ended ? undefined : await it.next(); r && !r.done; r = await it.next()) yield r.value;
    } finally {
      if (!ended) await it.return?.();
    }
  })();
  yield* start(ended ? 'main' : 'worker', all);
}

type Done = (summary: { size: number; sha256: string }) => void;

async function* onMain(source: AsyncIterable<Uint8Array>, params: SeipdParams, done: Done, packet?: InnerPacket): AsyncGenerator<Buffer> {
  const framing = new SeipdFraming(params, packet);
  const cipher = new SegmentCipher(params);
  const segments: Segment[] = [];
  for await (const chunk of source) {
    framing.plain(asBuffer(chunk), segments);
    yield* runSegments(segments, cipher);
  }
  framing.end(segments);
  yield* runSegments(segments, cipher);
  done({ size: cipher.size, sha256: cipher.sha256Hex() });
}

async function* onWorker(source: AsyncIterable<Uint8Array>, params: SeipdParams, done: Done, recycle?: (chunk: Buffer) => void, packet?: InnerPacket): AsyncGenerator<Buffer> {
  const framing = new SeipdFraming<Span>(params, packet);
  const worker = new CipherWorker(params, recycle);
  const segments: Segment<Span>[] = [];
  let size = 0;
  // The pieces are garbage once the consumer has taken them (copied into a part, or dropped).
  const consumed = youngCollector();
  async function* emit(pieces: Buffer[]): AsyncGenerator<Buffer> {
    for (const piece of pieces) {
      size += piece.byteLength;
      yield piece;
      consumed(piece.byteLength);
    }
  }
  try {
    for await (const chunk of source) {
      if (chunk.byteLength === 0) continue;
      framing.plain(worker.adopt(asBuffer(chunk), recycle !== undefined), segments);
      worker.send(segments);
      while (worker.inFlight >= maxInFlight || worker.ready) yield* emit(await worker.next());
    }
    framing.end(segments);
    worker.send(segments, true);
    while (worker.inFlight > 0) yield* emit(await worker.next());
    done({ size, sha256: worker.sha256 });
  } finally {
    worker.close();
  }
}

/**
 * Plaintext bytes held by the worker: `start`–`end` of the buffer it received as number `seq`.
 * The framing slices these instead of the bytes, so no byte of plaintext is copied on this thread.
 */
class Span implements Bytes {
  constructor(
    readonly seq: number,
    readonly start: number,
    readonly end: number,
  ) {}

  get byteLength(): number {
    return this.end - this.start;
  }

  subarray(start: number, end = this.byteLength): this {
    return new Span(this.seq, this.start + start, this.start + Math.min(end, this.byteLength)) as this;
  }
}

/**
 * One batch for the worker: the segments in output order as (kind, seq, start, end), where seq
 * -1 means bytes `start`–`end` of `lit` (the framing's own bytes, gathered into one buffer).
 */
interface Batch {
  /** A plaintext buffer handed over with this batch, as number `seq`, of which `start`–`end` is plaintext. */
  adopt?: { seq: number; buffer: ArrayBuffer; start: number; end: number };
  /** The last batch: its reply carries the SHA-256 of all output. */
  last?: boolean;
  ops: number[];
  lit: Uint8Array;
}

/** One worker thread; replies come back in the order batches were sent. */
class CipherWorker {
  private readonly worker: Worker;
  private readonly replies: Buffer[][] = [];
  private readonly reply = new ReplyWait<Buffer[]>();
  private sent = 0;
  private received = 0;
  private seq = 0;
  private adopted?: Batch['adopt'];
  private digest?: string;

  constructor(params: SeipdParams, recycle?: (chunk: Buffer) => void) {
    const { cipher } = checkParams(params);
    this.worker = new Worker(workerSource, { eval: true, workerData: { cipher, key: Buffer.from(params.sessionKey), v8Flags: processV8Flags() }, resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    this.worker.on('message', (m: { out: Uint8Array[]; returned: ArrayBuffer[]; sha256?: string }) => {
      this.received++;
      if (m.sha256 !== undefined) this.digest = m.sha256;
      if (recycle) for (const b of m.returned) recycle(Buffer.from(b));
      const reply = m.out.map(asBuffer);
      if (!this.reply.give(reply)) this.replies.push(reply);
    });
    this.worker.on('error', (err) => this.reply.fail(err));
    this.worker.on('exit', (code) => {
      if (this.received < this.sent) this.reply.fail(new Error(`the encryption worker stopped (exit code ${code})`));
    });
  }

  get inFlight(): number {
    return this.sent - this.received + this.replies.length;
  }

  get ready(): boolean {
    return this.replies.length > 0;
  }

  /**
   * The span standing for `chunk`, which goes to the worker with the next batch. An owned chunk
   * (the caller gives it up) is transferred with its whole ArrayBuffer; any other is copied.
   */
  adopt(chunk: Buffer, owned: boolean): Span {
    const seq = this.seq++;
    if (owned && chunk.buffer.byteLength > 0) {
      this.adopted = { seq, buffer: chunk.buffer as ArrayBuffer, start: chunk.byteOffset, end: chunk.byteOffset + chunk.byteLength };
    } else {
      const copy = Buffer.allocUnsafeSlow(chunk.byteLength);
      chunk.copy(copy);
      this.adopted = { seq, buffer: copy.buffer as ArrayBuffer, start: 0, end: copy.byteLength };
    }
    return new Span(seq, this.adopted.start, this.adopted.end);
  }

  /** SHA-256 (hex) of every byte the worker output, once the reply to the last batch came. */
  get sha256(): string {
    if (this.digest === undefined) throw new Error('the encryption worker gave no digest');
    return this.digest;
  }

  /** Sends these segments as one batch, with the chunk adopted since the last one. Empties the list. */
  send(segments: Segment<Span>[], last = false): void {
    const ops: number[] = [];
    const lits: Buffer[] = [];
    let litLength = 0;
    for (const seg of segments) {
      const n = seg.data.byteLength;
      if (n === 0) continue;
      if (seg.data instanceof Span) ops.push(seg.kind, seg.data.seq, seg.data.start, seg.data.end);
      else {
        ops.push(seg.kind, -1, litLength, litLength + n);
        lits.push(seg.data);
        litLength += n;
      }
    }
    segments.length = 0;
    const lit = Buffer.allocUnsafeSlow(litLength);
    let at = 0;
    for (const l of lits) at += l.copy(lit, at);
    const batch: Batch = { ops, lit, last };
    const transfer = [lit.buffer as ArrayBuffer];
    if (this.adopted) {
      batch.adopt = this.adopted;
      transfer.push(this.adopted.buffer);
    }
    this.adopted = undefined;
    this.sent++;
    this.worker.postMessage(batch, transfer);
  }

  next(): Promise<Buffer[]> {
    if (this.reply.failed) return Promise.reject(this.reply.failed);
    const ready = this.replies.shift();
    return ready ? Promise.resolve(ready) : this.reply.wait();
  }

  close(): void {
    void this.worker.terminate();
  }
}

/**
 * The worker's code, as source text so that no bundler or loader rewrites it. For each batch it
 * does what SegmentCipher.run does over the segments, in order: kind 0 = copy, kind 1 = SHA-1
 * then encrypt, kind 2 = the next bytes of the SHA-1 digest, encrypted. It keeps each plaintext
 * buffer until all of its bytes were used (the framing may hold a chunk's tail for the next
 * batch), then hands it back. The output pieces are transferred, never copied, after they are
 * added to the SHA-256 of the output, which the reply to the last batch carries.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
if (workerData.v8Flags) require('node:v8').setFlagsFromString(workerData.v8Flags);
const cipher = crypto.createCipheriv(workerData.cipher, workerData.key, Buffer.alloc(16));
const sha1 = crypto.createHash('sha1');
const sha256 = crypto.createHash('sha256');
const held = new Map();
let mdc, mdcAt = 0;
parentPort.on('message', ({ adopt, ops, lit: l, last }) => {
  if (adopt) held.set(adopt.seq, { buf: Buffer.from(adopt.buffer), left: adopt.end - adopt.start });
  const lit = Buffer.from(l.buffer, l.byteOffset, l.byteLength);
  const out = [], transfer = [], returned = [];
  for (let i = 0; i < ops.length; i += 4) {
    const kind = ops[i], seq = ops[i + 1], start = ops[i + 2], end = ops[i + 3];
    let bytes, from;
    if (seq < 0) bytes = lit.subarray(start, end);
    else {
      from = held.get(seq);
      bytes = from.buf.subarray(start, end);
    }
    let piece;
    if (kind === 0) piece = Buffer.from(bytes);
    else {
      if (kind === 2) {
        if (!mdc) mdc = sha1.digest();
        bytes = mdc.subarray(mdcAt, mdcAt + bytes.length);
        mdcAt += bytes.length;
      } else sha1.update(bytes);
      piece = cipher.update(bytes);
    }
    sha256.update(piece);
    out.push(piece);
    if (piece.byteOffset === 0 && piece.buffer.byteLength === piece.byteLength && piece.byteLength >= 4096) transfer.push(piece.buffer);
    if (from && (from.left -= end - start) === 0) {
      held.delete(seq);
      returned.push(from.buf.buffer);
    }
  }
  parentPort.postMessage(last ? { out, returned, sha256: sha256.digest('hex') } : { out, returned }, transfer.concat(returned));
});
`;
