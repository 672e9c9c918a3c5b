/**
 * What a backup made on Windows records: portable modes and owners, top-level names of drive and
 * UNC roots, and files locked by other programs skipped like unreadable ones. The Windows rules
 * are pure functions of an explicit platform, tested here on Linux (Wine is not Windows).
 */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { extractTar } from '../../src/core/pack/safeExtract';
import { archiveLinkTarget, archiveMode, archiveOwner, rootName } from '../../src/core/pack/portableMeta';
import { packTar, tarChunkSize } from '../../src/core/pack/tarWriter';
import { walk } from '../../src/core/pack/walk';
import { from } from '../helpers/extract';
import { tempDir } from '../helpers/tree';

describe('modes and owners in the tar', () => {
  it('keeps Linux and macOS modes and owners as they are', () => {
    for (const platform of ['linux', 'darwin'] as const) {
      assert.equal(archiveMode('directory', 0o40700, platform), 0o700);
      assert.equal(archiveMode('file', 0o104755, platform), 0o4755);
      assert.equal(archiveOwner(1000, platform), 1000);
    }
  });

  it('gives Windows folders 0755 (enterable after tar x), files 0644 or 0444 when read-only, owner 0', () => {
    // What Node for Windows reports: no execute bits, write bits from the read-only attribute.
    assert.equal(archiveMode('directory', 0o40666, 'win32'), 0o755);
    assert.equal(archiveMode('file', 0o100666, 'win32'), 0o644);
    assert.equal(archiveMode('file', 0o100444, 'win32'), 0o444);
    assert.equal(archiveMode('symlink', 0o120666, 'win32'), 0o777);
    assert.equal(archiveOwner(4242, 'win32'), 0);
  });
});

describe('symlink targets in the tar', () => {
  it('are "/"-separated from Windows, a junction without its \\\\?\\ prefix; as they are elsewhere', () => {
    assert.equal(archiveLinkTarget('..\\docs\\readme.md', 'win32'), '../docs/readme.md');
    assert.equal(archiveLinkTarget('\\\\?\\C:\\work\\x', 'win32'), 'C:/work/x');
    assert.equal(archiveLinkTarget('a\\b', 'linux'), 'a\\b');
  });
});

describe('top-level names of what is backed up', () => {
  it('is the base name, for drive letters and UNC paths too', () => {
    assert.equal(rootName('C:\\Users\\me\\Documents', path.win32), 'Documents');
    assert.equal(rootName('\\\\server\\share\\projects\\', path.win32), 'projects');
    assert.equal(rootName('\\\\server\\share', path.win32), 'share');
    assert.equal(rootName('\\\\?\\C:\\long\\path', path.win32), 'path');
    assert.equal(rootName('/home/me/docs', path.posix), 'docs');
  });

  it('names a drive root by its letter, never with a colon or separator', () => {
    assert.equal(rootName('C:\\', path.win32), 'C-drive');
    assert.equal(rootName('d:', path.win32), 'D-drive');
    assert.equal(rootName('\\\\?\\C:\\', path.win32), 'C-drive');
    assert.equal(rootName('/', path.posix), 'root');
  });
});

describe('files locked by another program', () => {
  it('skips a file whose first read fails with EBUSY, small or large, and the tar stays valid', async () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'd'));
    fs.writeFileSync(path.join(root, 'd', 'big.db'), randomBytes(tarChunkSize + 5000));
    fs.writeFileSync(path.join(root, 'd', 'small.db'), 'locked');
    fs.writeFileSync(path.join(root, 'd', 'ok.txt'), 'fine');
    const scanned = await walk([path.join(root, 'd')]);
    const locked = new Set<number>();
    const realOpen = fs.openSync;
    const realRead = fs.readSync;
    const realClose = fs.closeSync;
    const open = mock.method(fs, 'openSync', (...args: Parameters<typeof fs.openSync>) => {
      const fd = realOpen(...args);
      if (/\.db$/.test(String(args[0]))) locked.add(fd);
      return fd;
    });
    const read = mock.method(fs, 'readSync', (fd: number, ...rest: unknown[]) => {
      if (locked.has(fd)) throw Object.assign(new Error('EBUSY: resource busy or locked, read'), { code: 'EBUSY' });
      return (realRead as (...a: unknown[]) => number)(fd, ...rest);
    });
    const close = mock.method(fs, 'closeSync', (fd: number) => {
      locked.delete(fd);
      realClose(fd);
    });
    let tarBytes: Buffer;
    let report;
    try {
      const packed = packTar(scanned.entries);
      const chunks: Buffer[] = [];
      for await (const c of packed.stream) chunks.push(Buffer.from(c));
      tarBytes = Buffer.concat(chunks);
      report = await packed.report;
    } finally {
      open.mock.restore();
      read.mock.restore();
      close.mock.restore();
    }
    assert.deepEqual(
      report.skipped.map((s) => [path.basename(s.path), s.reason, s.detail]).sort(),
      [
        ['big.db', 'unreadable', 'EBUSY: in use by another program'],
        ['small.db', 'unreadable', 'EBUSY: in use by another program'],
      ],
    );
    assert.deepEqual([...report.entries].map((e) => e.path), ['d', 'd/ok.txt']);
    const out = tempDir();
    const restored = await extractTar(from(tarBytes), { root: out });
    assert.deepEqual(restored.map((e) => e.path), ['d', 'd/ok.txt']);
  });
});
