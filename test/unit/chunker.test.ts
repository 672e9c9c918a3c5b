import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Chunker, chunkStream, defaultChunking, type Chunk } from '../../src/core/pack/incremental/chunker';

const MiB = 1024 * 1024;

function chunksOf(data: Buffer, pieces: number[] = [MiB]): Chunk[] {
  const c = new Chunker();
  const out: Chunk[] = [];
  for (let at = 0, k = 0; at < data.length; k++) {
    const n = pieces[k % pieces.length]!;
    out.push(...c.push(data.subarray(at, at + n)));
    at += n;
  }
  return [...out, ...c.finish()];
}

describe('content-defined chunker', () => {
  const data = randomBytes(20 * MiB);
  const chunks = chunksOf(data);

  it('covers the bytes in order, each chunk named by its SHA-256, within the size bounds', () => {
    let at = 0;
    for (const [i, c] of chunks.entries()) {
      assert.equal(c.offset, at);
      const bytes = Buffer.concat(c.parts);
      assert.equal(c.length, bytes.length);
      assert.ok(bytes.equals(data.subarray(at, at + c.length)));
      assert.equal(c.sha256, createHash('sha256').update(bytes).digest('hex'));
      if (i < chunks.length - 1) assert.ok(c.length >= defaultChunking.min && c.length <= defaultChunking.max, `chunk ${i}: ${c.length}`);
      at += c.length;
    }
    assert.equal(at, data.length);
    const mean = data.length / chunks.length;
    assert.ok(mean > 0.7 * MiB && mean < 1.8 * MiB, `mean chunk ${mean}`);
  });

  it('is deterministic however the bytes are split into pushes', async () => {
    const names = chunks.map((c) => c.sha256);
    assert.deepEqual(chunksOf(data, [1, 4095, 3 * MiB + 7, 65536]).map((c) => c.sha256), names);
    async function* source(): AsyncGenerator<Buffer> {
      for (let at = 0; at < data.length; at += 777_777) yield data.subarray(at, at + 777_777);
    }
    const streamed: string[] = [];
    for await (const c of chunkStream(source())) streamed.push(c.sha256);
    assert.deepEqual(streamed, names);
  });

  it('after bytes inserted near the start, only one or two chunks differ', () => {
    const edited = Buffer.concat([data.subarray(0, 100_000), randomBytes(300), data.subarray(100_000)]);
    const before = new Set(chunks.map((c) => c.sha256));
    const fresh = chunksOf(edited).filter((c) => !before.has(c.sha256));
    assert.ok(fresh.length >= 1 && fresh.length <= 2, `${fresh.length} new chunks`);
    const overwritten = Buffer.from(data);
    randomBytes(1000).copy(overwritten, 12 * MiB);
    assert.ok(chunksOf(overwritten).filter((c) => !before.has(c.sha256)).length <= 2, 'an overwrite in the middle too');
  });

  it('cuts at `max` in data with no boundary, and gives the short rest as the last chunk', () => {
    const zeros = chunksOf(Buffer.alloc(9 * MiB + 5));
    assert.deepEqual(zeros.map((c) => c.length), [4 * MiB, 4 * MiB, MiB + 5]);
    assert.deepEqual(new Chunker().finish(), []);
    assert.throws(() => new Chunker({ min: 10, avg: 5, max: 20 }), RangeError);
  });
});
