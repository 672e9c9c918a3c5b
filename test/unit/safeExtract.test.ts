import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { extractTar } from '../../src/core/pack/safeExtract';
import { GlacierError } from '../../src/core/errors';
import { tempDir } from '../helpers/tree';
import { assertNothingOutside, assertRefused, from, makeTar, stage, type Spec } from '../helpers/extract';

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const when = new Date('2001-02-03T04:05:06Z');
const dirWhen = new Date('2011-12-13T14:15:16Z');

describe('safe extract', () => {
  it('restores a normal tree: content, sha256, modes (setuid dropped), mtimes, links, long and unicode names', async () => {
    const s = stage();
    const long = 'n'.repeat(150);
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const bytes = await makeTar([
      { name: 'd/', type: 'directory', mode: 0o750, mtime: dirWhen },
      { name: 'd/tool', type: 'file', mode: 0o4755, mtime: when, body: '#!/bin/sh\n' },
      { name: 'd/empty', type: 'file', mode: 0o600, mtime: when, body: '' },
      { name: `d/${long}`, type: 'file', mode: 0o644, mtime: when, body: 'long' },
      { name: 'd/Ünïcödé — 日本語 ✓.txt', type: 'file', mode: 0o640, mtime: when, body: 'unicode' },
      { name: 'd/link', type: 'symlink', linkname: 'tool', mtime: when },
      { name: './ro/', type: 'directory', mode: 0o555, mtime: dirWhen },
      { name: 'ro/inside.bin', type: 'file', mode: 0o444, mtime: when, body: big },
      { name: 'up-link', type: 'symlink', linkname: 'ro/inside.bin', mtime: when },
      { name: 'deep/er/link', type: 'symlink', linkname: '../../d/tool', mtime: when },
    ]);
    const progress: { entries: number; bytes: number }[] = [];
    const got = await extractTar(from(bytes, 65_537), { root: s.root, onProgress: (p) => progress.push(p) });

    assert.deepEqual(
      got.map((e) => e.path),
      ['d', 'd/tool', 'd/empty', `d/${long}`, 'd/Ünïcödé — 日本語 ✓.txt', 'd/link', 'ro', 'ro/inside.bin', 'up-link', 'deep/er/link'],
    );
    const byPath = new Map(got.map((e) => [e.path, e]));
    const at = (p: string): string => path.join(s.root, p);

    assert.equal(readFileSync(at('d/tool'), 'utf8'), '#!/bin/sh\n');
    assert.equal(statSync(at('d/tool')).mode & 0o7777, 0o755, 'setuid dropped on disk');
    assert.deepEqual(byPath.get('d/tool'), { path: 'd/tool', type: 'file', size: 10, mtime: when.getTime(), mode: 0o755, sha256: sha('#!/bin/sh\n') });
    assert.equal(statSync(at('d/tool')).mtimeMs, when.getTime());

    assert.equal(statSync(at('d/empty')).size, 0);
    assert.equal(byPath.get('d/empty')?.sha256, sha(''));
    assert.equal(statSync(at('d/empty')).mode & 0o7777, 0o600);
    assert.equal(readFileSync(at(`d/${long}`), 'utf8'), 'long');
    assert.equal(readFileSync(at('d/Ünïcödé — 日本語 ✓.txt'), 'utf8'), 'unicode');
    assert.equal(byPath.get('d/Ünïcödé — 日本語 ✓.txt')?.mode, 0o640);

    assert.ok(readFileSync(at('ro/inside.bin')).equals(big));
    assert.equal(byPath.get('ro/inside.bin')?.sha256, sha(big));
    assert.equal(byPath.get('ro/inside.bin')?.size, big.length);
    assert.equal(statSync(at('ro/inside.bin')).mode & 0o7777, 0o444);

    assert.equal(readlinkSync(at('d/link')), 'tool');
    assert.ok(lstatSync(at('d/link')).isSymbolicLink());
    assert.equal(byPath.get('d/link')?.linkTarget, 'tool');
    assert.equal(readlinkSync(at('deep/er/link')), '../../d/tool');
    assert.equal(readFileSync(at('deep/er/link'), 'utf8'), '#!/bin/sh\n', 'a link inside the root resolves');

    assert.equal(statSync(at('d')).mode & 0o7777, 0o750, 'directory mode applied');
    assert.equal(statSync(at('d')).mtimeMs, dirWhen.getTime(), 'directory mtime applied after its content was written');
    assert.equal(statSync(at('ro')).mode & 0o7777, 0o555, 'a read-only directory was still filled');
    assert.equal(statSync(at('ro')).mtimeMs, dirWhen.getTime());
    assert.equal(statSync(at('deep')).mode & 0o777, 0o700, 'an implicit parent is private');
    assert.ok(!byPath.has('deep'), 'implicit parents are not reported');

    assert.equal(progress.at(-1)?.entries, 10);
    assert.equal(progress.at(-1)?.bytes, 10 + 4 + 7 + big.length);
    assertNothingOutside(s);
  });

  it('updates a directory listed twice, and keeps one result for it', async () => {
    const s = stage();
    const bytes = await makeTar([
      { name: 'a/', type: 'directory', mode: 0o755, mtime: when },
      { name: 'a/f', type: 'file', body: 'x', mtime: when },
      { name: 'a/', type: 'directory', mode: 0o711, mtime: dirWhen },
    ]);
    const got = await extractTar(from(bytes), { root: s.root });
    assert.deepEqual(
      got.map((e) => [e.path, e.mode, e.mtime]),
      [
        ['a', 0o711, dirWhen.getTime()],
        ['a/f', 0o644, when.getTime()],
      ],
    );
    assert.equal(statSync(path.join(s.root, 'a')).mode & 0o7777, 0o711);
  });

  it('skips the top folder "./" of a `tar -c .` archive, and refuses an empty name of any other type', async () => {
    const s = stage();
    const bytes = await makeTar([
      { name: './', type: 'directory', mode: 0o777, mtime: dirWhen },
      { name: './a/', type: 'directory', mode: 0o750, mtime: dirWhen },
      { name: './a/b', type: 'file', mode: 0o640, mtime: when, body: 'b' },
      { name: '.', type: 'directory', mode: 0o700, mtime: when },
      { name: './top.txt', type: 'file', mode: 0o600, mtime: when, body: 'top' },
    ]);
    const rootMode = statSync(s.root).mode & 0o7777;
    const got = await extractTar(from(bytes, 100), { root: s.root });
    assert.deepEqual(
      got.map((e) => [e.path, e.type, e.mode]),
      [
        ['a', 'directory', 0o750],
        ['a/b', 'file', 0o640],
        ['top.txt', 'file', 0o600],
      ],
    );
    assert.deepEqual(readdirSync(s.root).sort(), ['a', 'top.txt']);
    assert.equal(readFileSync(path.join(s.root, 'a/b'), 'utf8'), 'b');
    assert.equal(statSync(s.root).mode & 0o7777, rootMode, 'the root keeps its own mode');
    assertNothingOutside(s);

    // The real thing: GNU tar's own "./" entry first.
    const src = tempDir('gb-extract-src-');
    mkdirSync(path.join(src, 'd'));
    writeFileSync(path.join(src, 'd', 'f.txt'), 'from GNU tar\n');
    const gnu = spawnSync('tar', ['-C', src, '-cf', '-', '.'], { maxBuffer: 1 << 20 });
    assert.equal(gnu.status, 0, gnu.stderr.toString());
    const t = stage();
    const fromGnu = await extractTar(from(gnu.stdout), { root: t.root });
    assert.deepEqual(fromGnu.map((e) => e.path).sort(), ['d', 'd/f.txt']);
    assert.equal(readFileSync(path.join(t.root, 'd', 'f.txt'), 'utf8'), 'from GNU tar\n');
    rmSync(src, { recursive: true, force: true });

    await assertRefused([{ name: './', type: 'file', body: '' }], /refused entry "\.\/": empty name/);
    await assertRefused([{ name: './', type: 'symlink', linkname: 'x' }], /refused entry "\.\/": empty name/);
    await assertRefused([{ name: './', type: 'directory', size: 1 } as Spec], /refused entry "\.\/": a directory entry with data/);
  });

  for (const [label, entries, message] of [
    ['../escape', [{ name: '../escape', body: 'x' }], /refused entry "\.\.\/escape": "\.\." segment/],
    ['../outside/escape', [{ name: '../outside/escape', body: 'x' }], /refused entry "\.\.\/outside\/escape"/],
    ['/abs/path', [{ name: '/abs/path', body: 'x' }], /refused entry "\/abs\/path": absolute path/],
    ['a/../../x', [{ name: 'a/../../x', body: 'x' }], /refused entry "a\/\.\.\/\.\.\/x": "\.\." segment/],
    ['a/../../outside/x', [{ name: 'a/../../outside/x', body: 'x' }], /refused entry "a\/\.\.\/\.\.\/outside\/x"/],
    ['a/./b', [{ name: 'a/./b', body: 'x' }], /refused entry "a\/\.\/b": "\." segment/],
    ['a//b', [{ name: 'a//b', body: 'x' }], /refused entry "a\/\/b": empty path segment/],
    ['C:/x', [{ name: 'C:/x', body: 'x' }], /refused entry "C:\/x": Windows drive letter/],
    ['a\\b', [{ name: '..\\outside\\x', body: 'x' }], /refused entry "\.\.\\\\outside\\\\x": backslash/],
    ['NUL byte', [{ name: 'ok', pax: { path: 'outside\0name' }, body: 'x' }], /refused entry "outside\\u0000name": NUL byte/],
    ['hardlink', [{ name: 'hard', type: 'link', linkname: '/etc/passwd' }], /refused entry "hard": hard links are not restored/],
    ['FIFO', [{ name: 'pipe', type: 'fifo' }], /refused entry "pipe": FIFOs are not restored/],
    ['char device', [{ name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3 }], /refused entry "dev\/null": device files/],
    ['block device', [{ name: 'sda', type: 'block-device', devmajor: 8 }], /refused entry "sda": device files/],
    ['contiguous file', [{ name: 'c', type: 'contiguous-file', body: 'x' }], /refused entry "c": contiguous files/],
    ['file then directory', [{ name: 'x', body: 'x' }, { name: 'x/', type: 'directory' }], /refused entry "x\/": duplicate path changes type/],
    ['file twice', [{ name: 'x', body: 'x' }, { name: 'x', body: 'y' }], /refused entry "x": duplicate entry/],
    ['directory then file', [{ name: 'x/', type: 'directory' }, { name: 'x', body: 'y' }], /refused entry "x": duplicate path changes type/],
    ['implicit directory then file', [{ name: 'x/y', body: 'x' }, { name: 'x', body: 'y' }], /refused entry "x": duplicate path changes type/],
    ['file as a parent', [{ name: 'x', body: 'x' }, { name: 'x/y', body: 'y' }], /refused entry "x\/y": a parent \("x"\) is a file/],
  ] as const) {
    it(`refuses ${label}, naming the entry, writing nothing outside`, async () => {
      await assertRefused(entries as readonly Spec[], message);
    });
  }

  it('refuses an absolute path into a real folder next to the root', async () => {
    await assertRefused((outside) => [{ name: `${outside}/abs`, body: 'x' }], /refused entry ".*\/outside\/abs": absolute path/);
    assert.ok(!existsSync('/abs'));
  });

  it('refuses a symlink to an absolute path, and a file under it', async () => {
    await assertRefused(
      [
        { name: 'evil', type: 'symlink', linkname: '/tmp' },
        { name: 'evil/pwned', body: 'x' },
      ],
      /refused entry "evil": absolute symlink target "\/tmp"/,
    );
    assert.ok(!existsSync('/tmp/pwned'));
  });

  it('refuses symlinks that climb out of the root', async () => {
    await assertRefused([{ name: 'up', type: 'symlink', linkname: '../..' }], /refused entry "up": symlink target "\.\.\/\.\." leaves the root/);
    await assertRefused([{ name: 'a/b/up', type: 'symlink', linkname: '../../../outside' }], /refused entry "a\/b\/up": .* leaves the root/);
    // "s" -> "." is harmless, but through it "s/../outside" reaches the parent of the root
    await assertRefused(
      [
        { name: 's', type: 'symlink', linkname: '.' },
        { name: 'l', type: 'symlink', linkname: 's/../outside' },
        { name: 'l/pwned', body: 'x' },
      ],
      /refused entry "l": symlink target "s\/\.\.\/outside" has "\.\." after a name/,
    );
  });

  it('never writes through a symlink, even one pointing inside the root', async () => {
    await assertRefused(
      [
        { name: 'sub/', type: 'directory' },
        { name: 'in', type: 'symlink', linkname: 'sub' },
        { name: 'in/pwned', body: 'x' },
      ],
      /refused entry "in\/pwned": writes through a symlink \("in"\)/,
    );
  });

  it('with allowOutsideSymlinks, creates a link out of the root but still never writes through it', async () => {
    const s = stage();
    const bytes = await makeTar([{ name: 'evil', type: 'symlink', linkname: s.outside }]);
    const got = await extractTar(from(bytes), { root: s.root, allowOutsideSymlinks: true });
    assert.equal(readlinkSync(path.join(s.root, 'evil')), s.outside);
    assert.equal(got[0]?.linkTarget, s.outside);
    await assertRefused(
      (outside) => [
        { name: 'evil', type: 'symlink', linkname: outside },
        { name: 'evil/pwned', body: 'x' },
      ],
      /refused entry "evil\/pwned": writes through a symlink/,
      { allowOutsideSymlinks: true },
    );
  });

  it('refuses more entries than maxEntries, and names longer than maxPathBytes', async () => {
    const many = Array.from({ length: 5 }, (_, i) => ({ name: `f${i}`, body: 'x' }));
    await assertRefused(many, /refused entry "f3": the archive has more than 3 entries/, { maxEntries: 3 });
    const s = stage();
    assert.equal((await extractTar(from(await makeTar(many)), { root: s.root, maxEntries: 5 })).length, 5);
    await assertRefused([{ name: `${'x'.repeat(300)}`, body: 'x' }], /refused entry "x{200}…": the name is longer than 256 bytes/, { maxPathBytes: 256 });
  });

  it('refuses a truncated tar, cut in the middle of a file', async () => {
    const s = stage();
    const bytes = await makeTar([
      { name: 'a', body: 'a' },
      { name: 'big', body: randomBytes(10_000) },
    ]);
    await assert.rejects(extractTar(from(bytes.subarray(0, 1024 + 512 + 5000)), { root: s.root }), (err: unknown) => {
      assert.ok(err instanceof GlacierError);
      assert.equal(err.code, 'corrupt');
      assert.equal(err.message, 'the archive is not a valid tar stream (it ends in the middle of an entry: truncated?)');
      return true;
    });
  });

  it('refuses a tar cut between entries (no end-of-archive blocks), and garbage', async () => {
    const s = stage();
    const bytes = await makeTar([
      { name: 'a', body: 'a' },
      { name: 'b', body: 'b' },
    ]);
    await assert.rejects(extractTar(from(bytes.subarray(0, 1024)), { root: s.root }), /not a valid tar stream \(it ends without the end-of-archive blocks/);
    await assert.rejects(extractTar(from(Buffer.alloc(0)), { root: stage().root }), /not a valid tar stream/);
    await assert.rejects(extractTar(from(randomBytes(4096)), { root: stage().root }), /not a valid tar stream \(Invalid tar header/);
  });

  it('rethrows an error of the source unchanged', async () => {
    const bytes = await makeTar([{ name: 'big', body: randomBytes(100_000) }]);
    const failure = new Error('integrity check failed');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 20_000);
      throw failure;
    }
    await assert.rejects(extractTar(failing(), { root: stage().root }), (err: unknown) => err === failure);
  });

  it('stops when cancelled', async () => {
    const bytes = await makeTar([{ name: 'big', body: randomBytes(1_000_000) }]);
    const controller = new AbortController();
    async function* slow(): AsyncGenerator<Uint8Array> {
      yield bytes.subarray(0, 100_000);
      controller.abort();
      await new Promise((r) => setTimeout(r, 10));
      yield bytes.subarray(100_000);
    }
    await assert.rejects(extractTar(slow(), { root: stage().root, signal: controller.signal }), (err: unknown) => {
      assert.ok(err instanceof GlacierError);
      assert.equal(err.code, 'cancelled');
      assert.equal(err.message, 'restore cancelled');
      return true;
    });
  });

  it('writes only the subset that passes the filter, and still validates the rest', async () => {
    const s = stage();
    const bytes = await makeTar([
      { name: 'keep/', type: 'directory', mode: 0o751 },
      { name: 'keep/a.txt', body: 'a' },
      { name: 'skip/', type: 'directory' },
      { name: 'skip/big.bin', body: randomBytes(200_000) },
      { name: 'skip/link', type: 'symlink', linkname: '../keep/a.txt' },
      { name: 'other/deep/keep.txt', body: 'k' },
      { name: 'z.txt', body: 'z' },
    ]);
    const filter = (p: string): boolean => p === 'keep' || p.startsWith('keep/') || p.endsWith('keep.txt');
    const got = await extractTar(from(bytes), { root: s.root, filter });
    assert.deepEqual(
      got.map((e) => e.path),
      ['keep', 'keep/a.txt', 'other/deep/keep.txt'],
    );
    assert.deepEqual(readdirSync(s.root).sort(), ['keep', 'other']);
    assert.equal(readFileSync(path.join(s.root, 'other/deep/keep.txt'), 'utf8'), 'k');
    assert.equal(statSync(path.join(s.root, 'keep')).mode & 0o7777, 0o751);

    await assertRefused(
      [
        { name: 'keep.txt', body: 'k' },
        { name: '../escape', body: 'x' },
      ],
      /refused entry "\.\.\/escape"/,
      { filter: (p) => p === 'keep.txt' },
    );
    // a link that is not written still may not serve as a parent of one that is
    await assertRefused(
      [
        { name: 'sub/', type: 'directory' },
        { name: 'in', type: 'symlink', linkname: 'sub' },
        { name: 'in/pwned', body: 'x' },
      ],
      /refused entry "in\/pwned": writes through a symlink \("in"\)/,
      { filter: (p) => p === 'in/pwned' },
    );
  });
});
