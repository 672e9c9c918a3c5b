/**
 * Restoring across systems: names Windows cannot hold, and names that Windows or macOS would take
 * for one another, get other names with a note each, never a crash or a silent loss. The rules
 * are pure (an explicit platform), so they are tested here on Linux; the restores below write the
 * mapped names on a Linux disk, which holds them all.
 */
import { describe, it, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs, { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fromBytes } from '../../src/core/model/rawNames';
import { checkOpened, extractTar } from '../../src/core/pack/safeExtract';
import { decodeLocalName, LocalNamer, macSafeName, windowsNameProblem, windowsSafeName } from '../../src/core/pack/localNames';
import { restoreNotes, restoreNotesSummary } from '../../src/core/jobs/restoreNotes';
import { GlacierError } from '../../src/core/errors';
import { from, makeTar, stage } from '../helpers/extract';
import { tempDir } from '../helpers/tree';

describe('names Windows cannot hold', () => {
  it('finds reserved characters, control characters, trailing dots and spaces, and device names with any extension', () => {
    for (const bad of ['a:b', 'x<y', 'x>y', 'say "hi"', 'a|b', 'why?', 'star*', 'tab\there', 'bell\u0007', 'dots.', 'space ', 'CON', 'con', 'Prn.txt', 'aux.tar.gz', 'NUL', 'nul .txt', 'COM1', 'com9.log', 'LPT1', 'lpt5.x', 'COM\u00b9']) {
      assert.ok(windowsNameProblem(bad), `${JSON.stringify(bad)} is refused by Windows`);
    }
    for (const good of ['a.txt', 'CONSOLE', 'con-x', 'COMA', 'LPT', '.profile', 'résumé.pdf', '100%', '日本語', 'a b']) {
      assert.equal(windowsNameProblem(good), undefined, `${JSON.stringify(good)} is fine on Windows`);
    }
    assert.match(windowsNameProblem(fromBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9])))!, /not UTF-8/);
  });

  it('percent-encodes what Windows cannot hold, and every % of such a name, so decoding gives the name back', () => {
    const cases: [string, string][] = [
      ['a:b', 'a%3Ab'],
      ['<>"|?*', '%3C%3E%22%7C%3F%2A'],
      ['50%:off', '50%25%3Aoff'],
      ['dots..', 'dots.%2E'],
      ['space ', 'space%20'],
      ['CON', '%43ON'],
      ['nul.txt', '%6Eul.txt'],
      ['com1.', '%63om1%2E'],
      ['tab\there', 'tab%09here'],
      [fromBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9])), 'caf%E9'],
    ];
    for (const [name, mapped] of cases) {
      assert.equal(windowsSafeName(name), mapped);
      assert.equal(windowsNameProblem(mapped), undefined, `${mapped} is a Windows name`);
      assert.equal(decodeLocalName(mapped), name, `${mapped} decodes to the archive name`);
    }
    assert.equal(windowsSafeName('100%.txt'), '100%.txt', 'a name that needs nothing keeps its %');
  });

  it('on macOS encodes only bytes that are not UTF-8', () => {
    assert.equal(macSafeName('a:b'), 'a:b');
    assert.equal(macSafeName(fromBytes(Buffer.from('5% caf\xe9', 'latin1'))), '5%25 caf%E9');
  });
});

describe('one local path for each archive path', () => {
  it('on Windows: case collisions get ~2 before the extension, and a renamed folder carries its contents', () => {
    const n = new LocalNamer('win32');
    assert.deepEqual(n.place(['d', 'A.txt']), { local: ['d', 'A.txt'], renamed: [] });
    const second = n.place(['d', 'a.txt']);
    assert.deepEqual(second.local, ['d', 'a~2.txt']);
    assert.match(second.renamed[0]!.reason, /differs from "A.txt" only in case/);
    assert.deepEqual(n.place(['d', 'a.TXT']).local, ['d', 'a~3.TXT']);
    const folder = n.place(['d', 'x:y', 'inner.txt']);
    assert.deepEqual(folder.local, ['d', 'x%3Ay', 'inner.txt']);
    assert.deepEqual(folder.renamed.map((r) => [r.path, r.localPath]), [['d/x:y', 'd/x%3Ay']]);
    assert.deepEqual(n.place(['d', 'x:y', 'more.txt']), { local: ['d', 'x%3Ay', 'more.txt'], renamed: [] }, 'reported once');
    // a literal name equal to a mapped one is a collision too
    assert.deepEqual(n.place(['d', 'x%3Ay']).local, ['d', 'x%3Ay~2']);
    // Linux keeps NFC and NFD apart, and so does NTFS
    assert.deepEqual(n.place(['d', 'caf\u00e9']).local, ['d', 'caf\u00e9']);
    assert.deepEqual(n.place(['d', 'cafe\u0301']).local, ['d', 'cafe\u0301']);
  });

  it('on macOS: case and Unicode normalisation collisions are renamed; ":" is kept', () => {
    const n = new LocalNamer('darwin');
    assert.deepEqual(n.place(['caf\u00e9.txt']).local, ['caf\u00e9.txt']);
    const nfd = n.place(['cafe\u0301.txt']);
    assert.deepEqual(nfd.local, ['cafe\u0301~2.txt']);
    assert.match(nfd.renamed[0]!.reason, /normalisation/);
    assert.deepEqual(n.place(['README']).local, ['README']);
    assert.deepEqual(n.place(['readme']).local, ['readme~2']);
    assert.deepEqual(n.place(['a:b']).local, ['a:b']);
  });

  it('on Linux: names as they are, nothing kept', () => {
    const n = new LocalNamer('linux');
    assert.deepEqual(n.place(['A', 'a:b']), { local: ['A', 'a:b'], renamed: [] });
    assert.deepEqual(n.place(['a', 'CON']), { local: ['a', 'CON'], renamed: [] });
  });
});

describe('a Linux archive restored with Windows rules', () => {
  const when = new Date('2001-02-03T04:05:06Z');

  it('writes every entry, under mapped names, and lists each renaming', async () => {
    const s = stage();
    const bytes = await makeTar([
      { name: 'p/', type: 'directory', mode: 0o755, mtime: when },
      { name: 'p/a:b', type: 'file', mode: 0o644, mtime: when, body: 'colon' },
      { name: 'p/A.txt', type: 'file', mode: 0o644, mtime: when, body: 'upper' },
      { name: 'p/a.txt', type: 'file', mode: 0o644, mtime: when, body: 'lower' },
      { name: 'p/CON/', type: 'directory', mode: 0o755, mtime: when },
      { name: 'p/CON/in.txt', type: 'file', mode: 0o644, mtime: when, body: 'in' },
      { name: 'p/what?/deep.txt', type: 'file', mode: 0o644, mtime: when, body: 'implicit parent' },
      { name: 'p/trail. ', type: 'file', mode: 0o644, mtime: when, body: 'trailing' },
      { name: 'p/ok.txt', type: 'file', mode: 0o644, mtime: when, body: 'ok' },
    ]);
    const got = await extractTar(from(bytes), { root: s.root, platform: 'win32' });
    assert.deepEqual(
      got.map((e) => [e.path, e.localPath]),
      [
        ['p', undefined],
        ['p/a:b', 'p/a%3Ab'],
        ['p/A.txt', undefined],
        ['p/a.txt', 'p/a~2.txt'],
        ['p/CON', 'p/%43ON'],
        ['p/CON/in.txt', 'p/%43ON/in.txt'],
        ['p/what?/deep.txt', 'p/what%3F/deep.txt'],
        ['p/trail. ', 'p/trail.%20'],
        ['p/ok.txt', undefined],
      ],
    );
    assert.deepEqual(readdirSync(path.join(s.root, 'p')).sort(), ['%43ON', 'A.txt', 'a%3Ab', 'a~2.txt', 'ok.txt', 'trail.%20', 'what%3F']);
    assert.equal(readFileSync(path.join(s.root, 'p', 'a~2.txt'), 'utf8'), 'lower');
    assert.equal(readFileSync(path.join(s.root, 'p', 'what%3F', 'deep.txt'), 'utf8'), 'implicit parent');
    const notes = restoreNotes(got);
    assert.equal(notes.length, 5, notes.join('\n'));
    assert.ok(notes.includes('"p/a:b": restored as "p/a%3Ab": Windows cannot hold this name (it has the character :)'), notes.join('\n'));
    assert.ok(notes.some((l) => l.startsWith('"p/what?/deep.txt": its folder "p/what?" is restored as "p/what%3F"')), notes.join('\n'));
    assert.equal(restoreNotesSummary(got), ' (6 under other names; see the notes above)');
  });

  it('restores the same archive unchanged with Linux rules', async () => {
    const s = stage();
    const bytes = await makeTar([
      { name: 'p/a:b', type: 'file', mode: 0o644, mtime: when, body: 'x' },
      { name: 'p/A.txt', type: 'file', mode: 0o644, mtime: when, body: 'y' },
      { name: 'p/a.txt', type: 'file', mode: 0o644, mtime: when, body: 'z' },
    ]);
    const got = await extractTar(from(bytes), { root: s.root, platform: 'linux' });
    assert.ok(got.every((e) => e.localPath === undefined && e.note === undefined));
    assert.deepEqual(readdirSync(path.join(s.root, 'p')).sort(), ['A.txt', 'a.txt', 'a:b']);
    assert.equal(restoreNotesSummary(got), '');
  });
});

describe('symlinks Windows does not let this user create', () => {
  it('are left out with a note naming the target, and the rest is restored', async () => {
    const when = new Date('2001-02-03T04:05:06Z');
    const s = stage();
    const bytes = await makeTar([
      { name: 'p/a.txt', type: 'file', mode: 0o644, mtime: when, body: 'a' },
      { name: 'p/link', type: 'symlink', linkname: 'a.txt', mtime: when },
      { name: 'p/z.txt', type: 'file', mode: 0o644, mtime: when, body: 'z' },
    ]);
    const symlink = mock.method(fs.promises, 'symlink', () => Promise.reject(Object.assign(new Error('EPERM: operation not permitted, symlink'), { code: 'EPERM' })));
    let got;
    try {
      got = await extractTar(from(bytes), { root: s.root, platform: 'win32' });
    } finally {
      symlink.mock.restore();
    }
    const link = got.find((e) => e.path === 'p/link')!;
    assert.equal(link.leftOut, true);
    assert.match(link.note!, /symlink to "a\.txt" not created: Windows needs Developer Mode/);
    assert.deepEqual(readdirSync(path.join(s.root, 'p')).sort(), ['a.txt', 'z.txt']);
    assert.equal(restoreNotesSummary(got), ' (1 left out; see the notes above)');
  });
});

describe('names that would leave the root or follow a link on Windows or macOS', () => {
  const when = new Date('2001-02-03T04:05:06Z');

  it('maps ".. " and "..." (Windows drops trailing dots and spaces, which would make them "..")', () => {
    assert.equal(windowsSafeName('.. '), '..%20');
    assert.equal(windowsSafeName('...'), '..%2E');
    assert.equal(windowsSafeName('..\t'), '..%09');
  });

  for (const platform of ['win32', 'darwin'] as const) {
    it(`on ${platform}: a file under "dir" does not go through the symlink "Dir", which is the same name there`, async () => {
      const s = stage();
      const bytes = await makeTar([
        { name: 'sub/', type: 'directory', mode: 0o755, mtime: when },
        { name: 'Dir', type: 'symlink', linkname: 'sub', mtime: when },
        { name: 'dir/x', type: 'file', mode: 0o644, mtime: when, body: 'x' },
      ]);
      const got = await extractTar(from(bytes), { root: s.root, platform });
      assert.equal(got.find((e) => e.path === 'dir/x')?.localPath, 'dir~2/x');
      assert.equal(readFileSync(path.join(s.root, 'dir~2', 'x'), 'utf8'), 'x');
      assert.deepEqual(readdirSync(path.join(s.root, 'sub')), []);
    });
  }
});

describe('the check that stands in for O_NOFOLLOW', () => {
  it('refuses a file reached through a symlinked folder, and one whose path names another file', () => {
    const root = tempDir();
    mkdirSync(path.join(root, 'real'));
    symlinkSync('real', path.join(root, 'via-link'));
    writeFileSync(path.join(root, 'real', 'f'), '');
    writeFileSync(path.join(root, 'other'), '');
    const fd = openSync(path.join(root, 'real', 'f'), 'r');
    try {
      assert.doesNotThrow(() => checkOpened(fd, path.join(root, 'real', 'f'), root, ['real', 'f'], 'real/f'));
      assert.throws(() => checkOpened(fd, path.join(root, 'via-link', 'f'), root, ['via-link', 'f'], 'via-link/f'), (e: unknown) => e instanceof GlacierError && /symlink or junction/.test(e.message));
      assert.throws(() => checkOpened(fd, path.join(root, 'other'), root, ['other'], 'other'), /not the one its path names/);
    } finally {
      closeSync(fd);
    }
    assert.ok(lstatSync(path.join(root, 'via-link')).isSymbolicLink());
  });
});
