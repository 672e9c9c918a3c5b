import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { packTar, tarSizeBound } from '../../src/core/pack/tarWriter';
import { walk } from '../../src/core/pack/walk';
import { rechunk } from '../../src/core/pack/rechunk';
import { tempDir } from '../helpers/tree';

async function collect(source: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const c of source) chunks.push(c);
  return Buffer.concat(chunks);
}

describe('tar writer', () => {
  it('writes a tar GNU tar lists, with names over 100 bytes and non-ASCII', async () => {
    const root = tempDir();
    const long = 'n'.repeat(120);
    mkdirSync(path.join(root, 'd'));
    writeFileSync(path.join(root, 'd', long), 'long');
    writeFileSync(path.join(root, 'd', 'é 日本.txt'), 'utf8');
    const scanned = await walk([path.join(root, 'd')]);
    const { stream, report } = packTar(scanned.entries);
    const tar = await collect(stream);
    const listed = spawnSync('tar', ['-t', '-f', '-'], { input: tar }).stdout.toString().trim().split('\n');
    assert.deepEqual(listed, ['d/', `d/${long}`, 'd/é 日本.txt']);
    assert.ok(tar.length <= tarSizeBound(scanned.entries), 'the size bound holds');
    assert.equal((await report).entries.length, 3);
  });

  it('reports progress inside a large file, not only when it is done', async () => {
    const root = tempDir();
    const size = 24 * 1024 * 1024;
    writeFileSync(path.join(root, 'big.bin'), randomBytes(size));
    const scanned = await walk([path.join(root, 'big.bin')]);
    const seen: { entriesDone: number; bytesRead: number }[] = [];
    const { stream, report } = packTar(scanned.entries, { onProgress: (p) => seen.push({ ...p }) });
    await collect(stream);
    await report;
    const during = seen.filter((p) => p.entriesDone === 0 && p.bytesRead > 0 && p.bytesRead < size);
    assert.ok(during.length >= 2, `progress while reading: ${JSON.stringify(seen)}`);
    assert.deepEqual(seen.at(-1), { entriesDone: 1, bytesRead: size });
  });

  it('reports a file that grows while it is read, and the tar stays valid', async () => {
    const root = tempDir();
    const file = path.join(root, 'growing.bin');
    writeFileSync(file, randomBytes(24 * 1024 * 1024));
    const scanned = await walk([file]);
    const { stream, report } = packTar(scanned.entries);
    const it = stream[Symbol.asyncIterator]();
    const first = await it.next();
    appendFileSync(file, randomBytes(1024)); // the writer is mid-file: back-pressure holds it there
    const rest: Uint8Array[] = [first.value as Uint8Array];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    const tar = Buffer.concat(rest);
    const done = await report;
    assert.deepEqual(done.changed, [file]);
    const listed = spawnSync('tar', ['-tv', '-f', '-'], { input: tar });
    assert.equal(listed.status, 0, listed.stderr.toString());
    assert.match(listed.stdout.toString(), /25165824 .* growing\.bin/);
  });

  it('coalesces small chunks without changing the bytes', async () => {
    async function* parts(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < 1000; i++) yield Buffer.from([i & 0xff, (i >> 8) & 0xff]);
      yield Buffer.alloc(3000, 7);
    }
    const sizes: number[] = [];
    const out: Uint8Array[] = [];
    for await (const c of rechunk(parts(), 1024)) {
      sizes.push(c.byteLength);
      out.push(c);
    }
    assert.ok(sizes.slice(0, -1).every((s) => s >= 1024));
    assert.equal(Buffer.concat(out).length, 5000);
    assert.deepEqual(Buffer.concat(out).subarray(0, 4), Buffer.from([0, 0, 1, 0]));
  });
});
