import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { walk } from '../../src/core/pack/walk';
import { compileExcludes } from '../../src/core/pack/excludes';
import { tempDir } from '../helpers/tree';

describe('excludes', () => {
  it('matches node_modules at any depth, and the folder itself when tested with a trailing slash', () => {
    const ex = compileExcludes(['**/node_modules/**']);
    assert.ok(ex('proj/node_modules/'));
    assert.ok(ex('proj/a/node_modules/x.js'));
    assert.ok(!ex('proj/node_modules_backup/x'));
    assert.ok(!ex('proj/src/index.ts'));
  });

  it('treats patterns without a slash as base-name patterns', () => {
    const ex = compileExcludes(['*.log', '.DS_Store']);
    assert.ok(ex('proj/deep/app.log'));
    assert.ok(ex('proj/.DS_Store'));
    assert.ok(!ex('proj/log.txt'));
  });

  it('excludes nothing for an empty list', () => {
    assert.ok(!compileExcludes(['', '  '])('a/b'));
  });
});

describe('walk', () => {
  it('lists files, folders and links in stable order, skipping FIFOs and excluded folders', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'b', 'node_modules', 'x'), { recursive: true });
    mkdirSync(path.join(root, 'a-empty'));
    writeFileSync(path.join(root, 'b', 'file.txt'), 'abc');
    writeFileSync(path.join(root, 'b', 'node_modules', 'x', 'y.js'), 'nope');
    symlinkSync('b/file.txt', path.join(root, 'link'));
    execFileSync('mkfifo', [path.join(root, 'fifo')]);
    const res = await walk([root]);
    const name = path.basename(root);
    assert.deepEqual(
      [...res.entries].map((e) => [e.path.slice(name.length), e.type]),
      [
        ['', 'directory'],
        ['/a-empty', 'directory'],
        ['/b', 'directory'],
        ['/b/file.txt', 'file'],
        ['/link', 'symlink'],
      ],
    );
    assert.equal([...res.entries].find((e) => e.type === 'symlink')!.linkTarget, 'b/file.txt');
    assert.equal([...res.entries].find((e) => e.type === 'file')!.size, 3);
    assert.deepEqual(
      res.skipped.map((s) => [path.basename(s.path), s.reason]),
      [['fifo', 'special']],
    );
  });

  it('follows links when asked, and stops at loops', async () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'real'));
    writeFileSync(path.join(root, 'real', 'f'), 'x');
    symlinkSync('..', path.join(root, 'real', 'up'));
    const res = await walk([path.join(root, 'real')], { followSymlinks: true });
    assert.ok([...res.entries].some((e) => e.path.endsWith('/up') && e.type === 'directory'));
    assert.ok(res.skipped.some((s) => s.reason === 'loop'));
  });

  it('names roots by their base name, disambiguating equal names', async () => {
    const a = tempDir();
    const b = tempDir();
    mkdirSync(path.join(a, 'same'));
    mkdirSync(path.join(b, 'same'));
    const res = await walk([path.join(a, 'same'), path.join(b, 'same')]);
    assert.deepEqual(res.roots.map((r) => r.name), ['same', 'same~2']);
  });

  it('refuses a path that does not exist with a clear message', async () => {
    await assert.rejects(walk(['/definitely/not/here']), /path does not exist: \/definitely\/not\/here/);
  });
});
