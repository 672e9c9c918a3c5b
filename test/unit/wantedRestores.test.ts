import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { completedBy, onlyText, outermost, parseWanted, pathChoices, releasable, restoreItems } from '../../src/vscode/wantedRestores';
import type { ManifestEntry } from '../../src/core/model/entry';

describe('what a restore was requested for', () => {
  it('reads the record of older versions (one file per archive) and drops what is malformed', () => {
    assert.deepEqual(parseWanted({ a: 'src/notes.txt', b: { paths: ['x'], archives: ['b0', 'b'] }, c: 42, d: { paths: [3] }, e: '' }), {
      a: { paths: ['src/notes.txt'] },
      b: { paths: ['x'], archives: ['b0', 'b'] },
      d: {},
    });
    assert.deepEqual(parseWanted(['a']), {});
    assert.deepEqual(parseWanted(undefined), {});
    assert.deepEqual(parseWanted({ f: { archives: Array.from({ length: 10_001 }, (_, i) => `a${i}`) } }), { f: {} }, 'bounded');
  });

  it('a snapshot is offered when the last archive it reads is ready, not before; an archive no request reads is offered itself', () => {
    const wanted = { s2: { paths: ['src/other.txt'], archives: ['s1'] }, s3: { archives: ['s1', 's3'] } };
    const ready = new Set<string>();
    assert.deepEqual(completedBy(wanted, 's1', (id) => ready.has(id)), ['s2'], 's3 still waits for its own archive');
    ready.add('s1');
    assert.deepEqual(completedBy(wanted, 's3', (id) => ready.has(id)), ['s3']);
    assert.equal(completedBy(wanted, 'other', () => true), undefined);
    // A record of an older version reads the snapshot's own archive.
    assert.deepEqual(completedBy({ v1: { paths: ['f'] } }, 'v1', () => false), ['v1']);
  });

  it('counts a chain restore once: restoring while any of its archives is, ready once all are; an archive no request reads on its own', () => {
    const wanted = parseWanted({ C: { archives: ['A', 'B', 'C'] }, E: { archives: ['D', 'E'] } });
    const pending = (states: Record<string, 'restoring' | 'ready'>) => Object.entries(states).map(([id, state]) => ({ id, state }));
    assert.deepEqual(restoreItems(wanted, pending({ A: 'ready', B: 'restoring', C: 'restoring' })), [{ id: 'C', state: 'restoring' }]);
    assert.deepEqual(restoreItems(wanted, pending({ A: 'ready', B: 'ready', C: 'ready', D: 'restoring' })), [
      { id: 'C', state: 'ready' },
      { id: 'E', state: 'restoring' },
    ]);
    // A shared archive counts for both requests; X was restored for itself.
    const shared = parseWanted({ B: { archives: ['A', 'B'] }, C: { archives: ['A', 'C'] } });
    assert.deepEqual(restoreItems(shared, pending({ A: 'restoring', X: 'ready' })), [
      { id: 'B', state: 'restoring' },
      { id: 'C', state: 'restoring' },
      { id: 'X', state: 'ready' },
    ]);
    assert.deepEqual(restoreItems({}, []), []);
  });

  it('after a download, lets go of the archives only that restore read', () => {
    const wanted = { s2: { archives: ['s1'] }, s3: { archives: ['s1', 's3'] } };
    assert.deepEqual(releasable(wanted, 's3'), ['s3'], 's1 is still read by the restore of s2');
    assert.deepEqual(releasable(wanted, 's2'), ['s2']);
    assert.deepEqual(releasable({ s3: { archives: ['s1', 's3'] } }, 's3'), ['s3', 's1']);
    assert.deepEqual(releasable({}, 'x'), ['x']);
  });

  it('picked paths inside a picked folder are dropped; the words name one file or count them', () => {
    assert.deepEqual(outermost(['src/a/b.txt', 'src/a', 'src/ab.txt', 'src/a/']), ['src/a', 'src/ab.txt']);
    assert.equal(onlyText(['src/deep/notes.txt']), 'only notes.txt');
    assert.equal(onlyText(['a', 'b'], 'Only'), 'Only 2 files or folders');
  });

  it('lists folders first, then files; a long manifest keeps every folder and says how many files it left out', () => {
    const e = (p: string, type: ManifestEntry['type'], size = 0): ManifestEntry => ({ path: p, type, size, mode: 0o644, mtime: 0 }) as ManifestEntry;
    const entries = [e('src/b.txt', 'file', 3), e('src/', 'directory'), e('src/a.txt', 'file', 1), e('src/d', 'directory'), e('src/d/c.txt', 'file', 2)];
    assert.deepEqual(pathChoices(entries), {
      rows: [
        { path: 'src', folder: true, size: 0 },
        { path: 'src/d', folder: true, size: 0 },
        { path: 'src/a.txt', folder: false, size: 1 },
        { path: 'src/b.txt', folder: false, size: 3 },
        { path: 'src/d/c.txt', folder: false, size: 2 },
      ],
      omitted: 0,
    });
    const cut = pathChoices(entries, 3);
    assert.deepEqual(cut.rows.map((r) => r.path), ['src', 'src/d', 'src/a.txt']);
    assert.equal(cut.omitted, 2);
  });
});
