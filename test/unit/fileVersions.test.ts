/**
 * Which snapshots hold a path of this machine, under which archive path, newest first, and which
 * archive holds its bytes (model/fileVersions.ts, jobs/fileVersions.ts).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Manifest } from '../../src/core/catalog/manifest';
import type { ManifestEntry } from '../../src/core/model/entry';
import { archivePathOf, coversPath, holderOf, localPathOf, orderVersions, relativeTime, versionIn } from '../../src/core/model/fileVersions';
import { findFileVersions } from '../../src/core/jobs/fileVersions';
import { exactFilter, subsetFilter } from '../../src/core/jobs/download';

const file = (p: string, sha: string, size = 10): ManifestEntry => ({ path: p, type: 'file', size, mtime: 0, mode: 0o644, sha256: sha.repeat(64).slice(0, 64) });
const dir = (p: string): ManifestEntry => ({ path: p, type: 'directory', size: 0, mtime: 0, mode: 0o755 });

function manifest(id: string, created: string, sources: { path: string; name: string }[], entries: ManifestEntry[]): Manifest {
  return { id, created, label: sources[0]!.name, host: 'ann', sources: sources.map((s) => ({ ...s, type: 'directory' })), entries } as unknown as Manifest;
}

describe('file versions: from a local path to an archive path', () => {
  const sources = [
    { path: '/home/ann/work/thesis', name: 'thesis' },
    { path: '/home/ann/notes', name: 'notes' },
  ];

  it('maps a path under a source to the source name plus the rest, and the source itself to its name', () => {
    assert.equal(archivePathOf(sources, '/home/ann/work/thesis/ch1/intro.tex'), 'thesis/ch1/intro.tex');
    assert.equal(archivePathOf(sources, '/home/ann/notes'), 'notes');
    assert.equal(archivePathOf(sources, '/home/ann/notes/'), 'notes');
  });

  it('does not take a sibling that shares a prefix, nor a folder above a source', () => {
    assert.equal(archivePathOf(sources, '/home/ann/work/thesis-old/a.tex'), undefined);
    assert.equal(archivePathOf(sources, '/home/ann/work'), undefined);
    assert.equal(coversPath(['/home/ann/work/thesis'], '/home/ann/work/thesis2'), false);
    assert.equal(coversPath(['/home/ann/work/thesis'], '/home/ann/work/thesis/x'), true);
  });

  it('compares Linux paths exactly (case matters) and Windows paths with either separator and any case', () => {
    assert.equal(archivePathOf(sources, '/home/ann/Notes/a.txt'), undefined);
    const win = [{ path: 'C:\\Users\\Ann\\Documents', name: 'Documents' }];
    assert.equal(archivePathOf(win, 'c:\\users\\ann\\documents\\Tax\\2025.pdf'), 'Documents/Tax/2025.pdf');
    assert.equal(archivePathOf(win, 'C:/Users/Ann/Documents/x'), 'Documents/x');
    assert.equal(localPathOf(win, 'Documents/Tax/2025.pdf'), 'C:\\Users\\Ann\\Documents\\Tax\\2025.pdf');
  });

  it('a source at the root of the file system covers everything below it', () => {
    assert.equal(archivePathOf([{ path: '/', name: 'root' }], '/etc/hosts'), 'root/etc/hosts');
  });

  it('maps an archive path back to where it was saved from, and nothing for a name no source has', () => {
    assert.equal(localPathOf(sources, 'thesis/ch1/intro.tex'), '/home/ann/work/thesis/ch1/intro.tex');
    assert.equal(localPathOf(sources, 'notes'), '/home/ann/notes');
    assert.equal(localPathOf(sources, 'other/x'), undefined);
  });
});

describe('file versions: which snapshots hold a path', () => {
  const src = [{ path: '/p/src', name: 'src' }];
  const older = manifest('20261101T100000Z-aaaaaaaaaaaaaaaa', '2026-11-01T10:00:00.000Z', src, [dir('src'), file('src/a.txt', 'a')]);
  const same = manifest('20261115T100000Z-bbbbbbbbbbbbbbbb', '2026-11-15T10:00:00.000Z', src, [dir('src'), file('src/a.txt', 'a')]);
  const edited = manifest('20261201T100000Z-cccccccccccccccc', '2026-12-01T10:00:00.000Z', src, [dir('src'), file('src/a.txt', 'c', 12)]);
  const without = manifest('20261120T100000Z-dddddddddddddddd', '2026-11-20T10:00:00.000Z', src, [dir('src')]);
  const other = manifest('20261125T100000Z-eeeeeeeeeeeeeeee', '2026-11-25T10:00:00.000Z', [{ path: '/q', name: 'q' }], [dir('q')]);
  const all = [older, same, edited, without, other];

  it('finds the entry under the archive path, and none where the snapshot lacks it', () => {
    const v = versionIn(edited, '/p/src/a.txt');
    assert.equal(v?.archivePath, 'src/a.txt');
    assert.equal(v?.entry.size, 12);
    assert.equal(versionIn(without, '/p/src/a.txt'), undefined);
    assert.equal(versionIn(other, '/p/src/a.txt'), undefined);
  });

  it('lists versions newest first and marks a copy with the same content as unchanged', async () => {
    const read: string[] = [];
    const versions = await findFileVersions({
      archives: all.map((m) => ({ id: m.id, sources: m.sources.map((s) => s.path) })),
      localPath: '/p/src/a.txt',
      manifest: async (id) => {
        read.push(id);
        return all.find((m) => m.id === id)!;
      },
    });
    assert.deepEqual(versions.map((v) => v.snapshot), [edited.id, same.id, older.id]);
    assert.deepEqual(versions.map((v) => v.changed), [true, false, true]);
    assert.ok(!read.includes(other.id), 'an archive whose sources cannot hold the path is not read');
  });

  it('reads an archive whose sources are not known yet, and reports one it cannot read without failing', async () => {
    const unreadable: string[] = [];
    const versions = await findFileVersions({
      archives: [{ id: older.id }, { id: 'broken' }],
      localPath: '/p/src/a.txt',
      manifest: async (id) => {
        if (id === 'broken') throw new Error('wrong passphrase');
        return older;
      },
      onUnreadable: (id) => unreadable.push(id),
    });
    assert.deepEqual(versions.map((v) => v.snapshot), [older.id]);
    assert.deepEqual(unreadable, ['broken']);
  });

  it('a cancelled search rejects instead of returning a partial list', async () => {
    const ac = new AbortController();
    const search = findFileVersions({
      archives: all.map((m) => ({ id: m.id })),
      localPath: '/p/src/a.txt',
      manifest: async (id) => {
        ac.abort();
        return all.find((m) => m.id === id)!;
      },
      signal: ac.signal,
    });
    await assert.rejects(search, (err: Error) => err.name === 'AbortError');
  });

  it('a folder has versions too; they are never marked unchanged', () => {
    const vs = orderVersions([versionIn(older, '/p/src')!, versionIn(same, '/p/src')!]);
    assert.deepEqual(vs.map((v) => [v.entry.type, v.changed]), [['directory', true], ['directory', true]]);
  });

  it('the bytes are in the snapshot\'s own archive (format 1), or the archive and path a format 2 entry names', () => {
    assert.deepEqual(holderOf(edited.id, file('src/a.txt', 'c')), { archive: edited.id, path: 'src/a.txt' });
    assert.deepEqual(holderOf(edited.id, { ...file('src/a.txt', 'c'), in: older.id, at: 'old/a.txt' }), { archive: older.id, path: 'old/a.txt' });
  });
});

describe('file versions: subset of a download by exact path', () => {
  it('takes a name with pattern characters literally, where --only would glob', () => {
    const exact = exactFilter(['src/a[1].txt']);
    assert.equal(exact('src/a[1].txt'), true);
    assert.equal(exact('src/a1.txt'), false);
    assert.equal(subsetFilter(['src/a[1].txt'])('src/a1.txt'), true, 'the glob reading, which exactFilter avoids');
  });

  it('a folder includes what is inside it, and nothing that merely shares its prefix', () => {
    const exact = exactFilter(['src/docs/']);
    assert.equal(exact('src/docs'), true);
    assert.equal(exact('src/docs/a.md'), true);
    assert.equal(exact('src/docs2/a.md'), false);
  });
});

describe('relative times', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  const ago = (s: number): string => relativeTime(new Date(now.getTime() - s * 1000), now);
  it('says how long ago in the largest unit that fits', () => {
    assert.equal(ago(10), 'just now');
    assert.equal(ago(5 * 60), '5 minutes ago');
    assert.equal(ago(3600), '1 hour ago');
    assert.equal(ago(30 * 3600), 'yesterday');
    assert.equal(ago(3 * 86_400), '3 days ago');
    assert.equal(ago(15 * 86_400), '2 weeks ago');
    assert.equal(ago(90 * 86_400), '3 months ago');
    assert.equal(ago(800 * 86_400), '2 years ago');
  });
});
