import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
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
    const tar = Buffer.concat([...writeArchive(entries, plan, { id: 'X', timeMs: 0 }, result)]);
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
});
