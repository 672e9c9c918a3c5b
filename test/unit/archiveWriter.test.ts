import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { appendFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/tree';
import { walk } from '../../src/core/pack/walk';
import { planSnapshot } from '../../src/core/pack/incremental/plan';
import { emptyResult, writeArchive } from '../../src/core/pack/incremental/archiveWriter';
import { manifestEntriesV2 } from '../../src/core/pack/incremental/entries';

describe('version 2 archive writer', () => {
  it('writes the walk\'s members, then the records; reports files gone or grown since the walk', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'src'));
    for (const n of ['a', 'gone', 'grows']) writeFileSync(path.join(root, 'src', n), n);
    const { entries } = await walk([path.join(root, 'src')]);
    const plan = planSnapshot(entries);
    rmSync(path.join(root, 'src', 'gone'));
    appendFileSync(path.join(root, 'src', 'grows'), ' more');
    const result = emptyResult();
    const tar = Buffer.concat(Array.from(writeArchive(entries, plan, { id: 'X', timeMs: 0 }, result), (piece) => Buffer.from(piece)));
    const listed = spawnSync('tar', ['-t', '-f', '-'], { input: tar }).stdout.toString().trim().split('\n');
    assert.deepEqual(listed, ['src/', 'src/a', 'src/grows', '.glacier-backup/', '.glacier-backup/chunks/', '.glacier-backup/recipes', '.glacier-backup/SHA256SUMS']);
    assert.deepEqual(result.skipped.map((s) => [path.basename(s.path), s.detail]), [['gone', 'ENOENT']]);
    assert.deepEqual(result.changed.map((p) => path.basename(p)), ['grows']);
    const manifest = [...manifestEntriesV2(entries, plan, result)];
    assert.deepEqual(manifest.map((e) => [e.path, e.size]), [['src', 0], ['src/a', 1], ['src/grows', 10]]);
    const sums = spawnSync('tar', ['-x', '-O', '-f', '-', '.glacier-backup/SHA256SUMS'], { input: tar }).stdout.toString();
    assert.equal(sums.split('\n').filter(Boolean).length, 2);
    assert.equal(result.storedBytes, 11);
    const content = (name: string): string => spawnSync('tar', ['-x', '-O', '-f', '-', name], { input: tar }).stdout.toString();
    assert.equal(content('src/a'), 'a');
    assert.equal(content('src/grows'), 'grows more');
  });

  it('reuses its read buffers only once nothing views them: chunks cut across uneven pieces keep their bytes', async () => {
    const root = tempDir();
    const big = randomBytes(3_000_000);
    writeFileSync(path.join(root, 'big.bin'), big);
    writeFileSync(path.join(root, 'small.bin'), randomBytes(123_457));
    const { entries } = await walk([root], { exclude: [] });
    const plan = planSnapshot(entries);
    const result = emptyResult();
    const options = { id: 'X', timeMs: 0, chunkThreshold: 1_000_000, chunking: { min: 20_000, avg: 80_000, max: 300_000 }, pieceSize: 70_001 };
    const seen = new Set<ArrayBufferLike>();
    const pieces: Buffer[] = [];
    for (const piece of writeArchive(entries, plan, options, result)) {
      if (piece.length >= 70_001) seen.add(piece.buffer);
      pieces.push(Buffer.from(piece));
    }
    assert.ok(seen.size < 12, `${seen.size} read buffers for about 45 pieces: they are not reused`);
    const out = tempDir();
    assert.equal(spawnSync('tar', ['-x', '-f', '-', '-C', out], { input: Buffer.concat(pieces) }).status, 0);
    const top = path.basename(root);
    const recipe = readFileSync(path.join(out, top, 'big.bin'), 'utf8').trim().split('\n');
    assert.ok(recipe.length > 5, `${recipe.length} chunks`);
    const chunks = recipe.map((hash) => readFileSync(path.join(out, '.glacier-backup', 'chunks', hash)));
    for (const [i, c] of chunks.entries()) assert.equal(createHash('sha256').update(c).digest('hex'), recipe[i]);
    assert.ok(Buffer.concat(chunks).equals(big));
    assert.ok(readFileSync(path.join(out, top, 'small.bin')).equals(readFileSync(path.join(root, 'small.bin'))));
  });
});
