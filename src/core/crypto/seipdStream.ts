/**
 * Streams plaintext through the SEIPD v1 writer (seipd.ts). The framing runs on the calling
 * thread; the cipher (AES-CFB and the MDC's SHA-1) runs either on that thread too or on a worker
 * thread, so that tar, file hashing and upload keep one core and encryption gets the other. With
 * a worker, the SHA-256 of the output is computed on the calling thread: AES-CFB is serial and
 * the longer job, and this balances the two threads (pack + encrypt about 6% faster).
 *
 * Guarantees: the bytes are the same either way (see seipd.ts). Back-pressure is honoured: the
 * source is read only as fast as the output is consumed, with at most `maxInFlight` batches of
 * about `batchSize` bytes at the worker. Stopping early (return/throw from the consumer) ends the
 * worker and the source; a worker failure fails the stream.
 */
import { createHash } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { asBuffer, checkParams, clear, SeipdFraming, SegmentCipher, type Segment, type SeipdParams } from './seipd';

export interface SeipdStreamOptions {
  /** Where the cryptography runs: a worker thread (default with 2+ cores) or this thread. */
  thread?: 'worker' | 'main';
}

/** The OpenPGP message as a stream of byte chunks; once it has ended, what was written. */
export interface EncryptedStream extends AsyncIterable<Buffer> {
  /** Size and SHA-256 (hex) of all bytes yielded; set when the stream has ended. */
  readonly summary: { size: number; sha256: string } | undefined;
}

const maxInFlight = 4;
const batchSize = 1 << 20;

/** The OpenPGP message (binary) of the plaintext `source`. Iterate it once. */
export function encryptSeipd(source: AsyncIterable<Uint8Array>, params: SeipdParams, options: SeipdStreamOptions = {}): EncryptedStream {
  checkParams(params);
  const thread = options.thread ?? (availableParallelism() > 1 ? 'worker' : 'main');
  const result: { summary?: { size: number; sha256: string } } = {};
  const done = (summary: { size: number; sha256: string }): void => {
    result.summary = summary;
  };
  const gen = thread === 'worker' ? onWorker(source, params, done) : onMain(source, params, done);
  return {
    [Symbol.asyncIterator]: () => gen,
    get summary() {
      return result.summary;
    },
  };
}

type Done = (summary: { size: number; sha256: string }) => void;

async function* onMain(source: AsyncIterable<Uint8Array>, params: SeipdParams, done: Done): AsyncGenerator<Buffer> {
  const framing = new SeipdFraming(params);
  const cipher = new SegmentCipher(params);
  const segments: Segment[] = [];
  for await (const chunk of source) {
    framing.plain(asBuffer(chunk), segments);
    yield* run(segments, cipher);
  }
  framing.end(segments);
  yield* run(segments, cipher);
  done({ size: cipher.size, sha256: cipher.sha256Hex() });
}

function* run(segments: Segment[], cipher: SegmentCipher): Generator<Buffer> {
  for (const seg of segments) if (seg.data.byteLength > 0) yield cipher.run(seg);
  segments.length = 0;
}

async function* onWorker(source: AsyncIterable<Uint8Array>, params: SeipdParams, done: Done): AsyncGenerator<Buffer> {
  const framing = new SeipdFraming(params);
  const worker = new CipherWorker(params);
  const segments: Segment[] = [];
  // The SHA-256 of the output on this thread: the worker's AES-CFB is serial and the longer job.
  const digest = createHash('sha256');
  try {
    for await (const chunk of source) {
      framing.plain(asBuffer(chunk), segments);
      const held = segments.reduce((n, s) => n + s.data.byteLength, 0);
      if (held >= batchSize) worker.send(segments);
      while (worker.inFlight >= maxInFlight || worker.ready) {
        const { data } = await worker.next();
        digest.update(data);
        yield data;
      }
    }
    framing.end(segments);
    worker.send(segments);
    while (worker.inFlight > 0) {
      const { data } = await worker.next();
      digest.update(data);
      if (data.byteLength > 0) yield data;
    }
    done({ size: worker.size, sha256: digest.digest('hex') });
  } finally {
    worker.close();
  }
}

interface Reply {
  data: Buffer;
}

/** One worker thread; replies come back in the order batches were sent. */
class CipherWorker {
  private readonly worker: Worker;
  private readonly replies: Reply[] = [];
  private waiter?: { resolve: (r: Reply) => void; reject: (e: Error) => void };
  private failure?: Error;
  private sent = 0;
  private received = 0;
  size = 0;

  constructor(params: SeipdParams) {
    const { cipher } = checkParams(params);
    this.worker = new Worker(workerSource, { eval: true, workerData: { cipher, key: Buffer.from(params.sessionKey) } });
    this.worker.on('message', (m: { data: Uint8Array }) => {
      this.received++;
      const reply = { data: asBuffer(m.data) };
      if (this.waiter) {
        this.waiter.resolve(reply);
        this.waiter = undefined;
      } else this.replies.push(reply);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.worker.on('exit', (code) => {
      if (this.received < this.sent) this.fail(new Error(`the encryption worker stopped (exit code ${code})`));
    });
  }

  get inFlight(): number {
    return this.sent - this.received + this.replies.length;
  }

  get ready(): boolean {
    return this.replies.length > 0;
  }

  /**
   * Sends these segments as one batch: one transferable buffer, the runs to encrypt or fill with
   * the SHA-1 as (start, end, kind) triples. Empties the list.
   */
  send(segments: Segment[]): void {
    const size = segments.reduce((n, s) => n + s.data.byteLength, 0);
    const data = Buffer.allocUnsafeSlow(size);
    const runs: number[] = [];
    let at = 0;
    for (const seg of segments) {
      const end = at + seg.data.copy(data, at);
      if (seg.kind !== clear && end > at) {
        const n = runs.length;
        if (n > 0 && runs[n - 2] === at && runs[n - 1] === seg.kind) runs[n - 2] = end;
        else runs.push(at, end, seg.kind);
      }
      at = end;
    }
    segments.length = 0;
    this.size += size;
    this.sent++;
    this.worker.postMessage({ data, runs }, [data.buffer]);
  }

  next(): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  close(): void {
    void this.worker.terminate();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.waiter?.reject(this.failure);
    this.waiter = undefined;
  }
}

/**
 * The worker's code, as source text so that no bundler or loader rewrites it. It does what
 * SegmentCipher.run does, over a batch, in place: kind 1 = SHA-1 then encrypt, kind 2 = put the
 * next bytes of the SHA-1 digest there then encrypt; the batch is sent back (transferred).
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const cipher = crypto.createCipheriv(workerData.cipher, workerData.key, Buffer.alloc(16));
const sha1 = crypto.createHash('sha1');
let mdc, mdcAt = 0;
parentPort.on('message', ({ data: m, runs }) => {
  const data = Buffer.from(m.buffer, m.byteOffset, m.byteLength);
  for (let i = 0; i < runs.length; i += 3) {
    const start = runs[i], end = runs[i + 1], kind = runs[i + 2];
    const run = data.subarray(start, end);
    if (kind === 2) {
      if (!mdc) mdc = sha1.digest();
      mdc.copy(run, 0, mdcAt, mdcAt + run.length);
      mdcAt += run.length;
    } else sha1.update(run);
    cipher.update(run).copy(data, start);
  }
  parentPort.postMessage({ data }, [data.buffer]);
});
`;
