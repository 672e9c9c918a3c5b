import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { tempDir } from '../helpers/tree';
import { isChunkable, parseRecipe, recipeText, recipesList, sumsFile, sumsLine } from '../../src/core/pack/incremental/records';
import { fromBytes, fsPath } from '../../src/core/model/rawNames';

describe('.glacier-backup records', () => {
  it('SHA256SUMS escapes names as coreutils does, and sha256sum --strict -c accepts every line', () => {
    const dir = tempDir();
    const names = ['plain.txt', 'with space.txt', 'back\\slash.txt', 'new\nline.txt', 'both\\\nx', 'Ünï 日本.txt', fromBytes(Buffer.from([0x6c, 0x61, 0x74, 0xe9]))];
    mkdirSync(path.join(dir, 'd'));
    const files = names.map((name) => {
      const content = `content of ${name}`;
      writeFileSync(fsPath(path.join(dir, 'd', name)), content);
      return { path: `d/${name}`, sha256: createHash('sha256').update(content).digest('hex') };
    });
    const sums = sumsFile(files);
    writeFileSync(path.join(dir, 'SUMS'), sums);
    const res = spawnSync('sha256sum', ['--strict', '-c', 'SUMS'], { cwd: dir });
    assert.equal(res.status, 0, res.stderr.toString() + res.stdout.toString());
    assert.equal((res.stdout.toString().match(/: OK$/gm) ?? []).length, names.length);
    const h = 'a'.repeat(64);
    assert.equal(sumsLine(h, 'a\\b\nc').toString(), `\\${h}  a\\\\b\\nc\n`);
    assert.equal(sumsLine(h, 'a b').toString(), `${h}  a b\n`);
    const odd = files.slice(2, 5);
    const own = spawnSync('sha256sum', odd.map((f) => f.path), { cwd: dir }).stdout;
    assert.deepEqual(sumsFile(odd), own, 'the very bytes coreutils writes');
  });

  it('recipes are chunk names one a line; only UTF-8 paths without control characters are chunked', () => {
    const hashes = ['0'.repeat(64), 'f'.repeat(64)];
    assert.equal(recipeText(hashes).toString(), `${hashes[0]}\n${hashes[1]}\n`);
    assert.deepEqual(parseRecipe(recipeText(hashes)), hashes);
    assert.throws(() => parseRecipe(Buffer.from('not a recipe\n')));
    assert.equal(recipesList(['a/b c', 'é']).toString(), 'a/b c\né\n');
    assert.throws(() => recipesList(['a\nb']));
    assert.ok(isChunkable('a/b c.img', 64 * 1024 * 1024));
    assert.ok(!isChunkable('a/b c.img', 64 * 1024 * 1024 - 1));
    assert.ok(!isChunkable('a/b\nc.img', 1 << 30));
    assert.ok(!isChunkable(fromBytes(Buffer.from([0xe9])), 1 << 30));
  });
});
