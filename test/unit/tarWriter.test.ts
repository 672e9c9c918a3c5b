import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import * as tar from 'tar-stream';
import { packTar, tarChunkSize, tarSizeBound } from '../../src/core/pack/tarWriter';
import { walk } from '../../src/core/pack/walk';
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

  it('writes the bytes tar-stream writes for the same entries: split, long and non-ASCII names, long link targets, sizes around 512', async () => {
    const root = tempDir();
    const deep = path.join(root, 't', 'd'.repeat(60), 'e'.repeat(60));
    mkdirSync(deep, { recursive: true });
    writeFileSync(path.join(deep, 'split-at-a-slash.txt'), 'ustar prefix');
    writeFileSync(path.join(root, 't', 'n'.repeat(120)), 'pax path');
    writeFileSync(path.join(root, 't', 'é 日本.txt'), 'utf8');
    for (const size of [0, 1, 511, 512, 513, 1 << 20, (1 << 20) + 1]) writeFileSync(path.join(root, 't', `size-${size}`), randomBytes(size));
    symlinkSync('L'.repeat(130), path.join(root, 't', 'long-link'));
    symlinkSync('cible-é', path.join(root, 't', 'utf8-link'));
    mkdirSync(path.join(root, 't', 'empty-dir'));
    const scanned = await walk([path.join(root, 't')]);
    const ours = await collect(packTar(scanned.entries).stream);

    const pack = tar.pack();
    const theirs = collect(pack as unknown as AsyncIterable<Uint8Array>);
    for (const e of scanned.entries) {
      const header = { name: e.type === 'directory' ? `${e.path}/` : e.path, mode: e.mode, mtime: new Date(e.mtimeMs), uid: e.uid, gid: e.gid, type: e.type, size: e.size, ...(e.linkTarget ? { linkname: e.linkTarget } : {}) };
      await new Promise<void>((resolve, reject) => {
        const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
        if (e.type === 'file') pack.entry(header, readFileSync(e.abs), cb);
        else pack.entry(header, cb);
      });
    }
    pack.finalize();
    assert.equal(ours.length, (await theirs).length);
    assert.equal(tarSizeBound(scanned.entries), ours.length, 'the size bound is exact for files that did not change');
    assert.ok(ours.equals(await theirs), 'byte for byte');
  });

  it('yields whole chunks of tarChunkSize bytes, filling handed-back chunks again', async () => {
    const root = tempDir();
    for (let i = 0; i < 40; i++) writeFileSync(path.join(root, `f${i}`), randomBytes(100_000));
    const scanned = await walk([root]);
    const packed = packTar(scanned.entries);
    const seen = new Set<ArrayBufferLike>();
    const sizes: number[] = [];
    let reused = 0;
    const copy: Buffer[] = [];
    for await (const chunk of packed.stream) {
      sizes.push(chunk.length);
      if (seen.has(chunk.buffer)) reused++;
      seen.add(chunk.buffer);
      copy.push(Buffer.from(chunk));
      packed.recycle(chunk);
    }
    assert.ok(sizes.slice(0, -1).every((n) => n === tarChunkSize), `sizes ${sizes.join(',')}`);
    assert.ok(reused >= sizes.length - 2, `chunks reused: ${reused} of ${sizes.length}`);
    const listed = spawnSync('tar', ['-t', '-f', '-'], { input: Buffer.concat(copy) });
    assert.equal(listed.stdout.toString().trim().split('\n').length, 41);
  });

  it('archives what is there when read, and reports a file changed or grown since the walk', async () => {
    const root = tempDir();
    for (const name of ['same', 'rewritten', 'grown', 'shrunk']) writeFileSync(path.join(root, name), 'walked 10');
    const scanned = await walk([root]);
    writeFileSync(path.join(root, 'rewritten'), 'Rewritten!');
    utimesSync(path.join(root, 'rewritten'), 1_000_000, 1_000_000);
    writeFileSync(path.join(root, 'grown'), 'grown to twenty byte');
    writeFileSync(path.join(root, 'shrunk'), 'short');
    const packed = packTar(scanned.entries);
    const bytes = await collect(packed.stream);
    const report = await packed.report;
    assert.deepEqual(report.changed.map((f) => path.basename(f)).sort(), ['grown', 'rewritten', 'shrunk']);
    const out = tempDir();
    assert.equal(spawnSync('tar', ['-x', '-C', out, '-f', '-'], { input: bytes }).status, 0);
    const base = path.basename(root);
    for (const name of ['same', 'rewritten', 'grown', 'shrunk']) {
      assert.equal(readFileSync(path.join(out, base, name), 'utf8'), readFileSync(path.join(root, name), 'utf8'), name);
    }
  });

  it('writes a file dated before 1970 with mtime 0, and skips a file that became a folder after the walk', async () => {
    const root = tempDir();
    const old = path.join(root, 'old.txt');
    writeFileSync(old, 'old');
    assert.equal(spawnSync('touch', ['-d', '1960-01-01T00:00:00Z', old]).status, 0); // node refuses negative times
    writeFileSync(path.join(root, 'became-dir'), 'x');
    const scanned = await walk([root]);
    rmSync(path.join(root, 'became-dir'));
    mkdirSync(path.join(root, 'became-dir'));
    const packed = packTar(scanned.entries);
    const bytes = await collect(packed.stream);
    const report = await packed.report;
    assert.deepEqual(report.skipped.map((s) => [path.basename(s.path), s.reason]), [['became-dir', 'special']]);
    const listed = spawnSync('tar', ['-tv', '--utc', '-f', '-'], { input: bytes });
    assert.equal(listed.status, 0, listed.stderr.toString());
    assert.match(listed.stdout.toString(), /1970-01-01 00:00 .*old\.txt/);
  });
});
