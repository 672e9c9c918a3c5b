import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SourceEntryList } from '../../src/core/pack/entryList';
import type { EntryType } from '../../src/core/model/entry';
import { planSnapshot, type PreviousEntry } from '../../src/core/pack/incremental/plan';
import { decodeDumpdir, encodeDumpdir } from '../../src/core/pack/incremental/dumpdir';
import { chainNeeds, fullChain, holdersOf, nextChain } from '../../src/core/model/chain';

type Spec = [path: string, type: EntryType, size?: number, mtime?: number, mode?: number, link?: string];

/** A walk's entries from paths in walk order (a folder before its contents). */
function walked(specs: Spec[]): SourceEntryList {
  const list = new SourceEntryList();
  const index = new Map<string, number>();
  for (const [p, type, size = 0, mtime = 1000, mode = type === 'directory' ? 0o755 : 0o644, link] of specs) {
    const cut = p.lastIndexOf('/');
    const fields = { type, size, mtimeMs: mtime, mode, uid: 0, gid: 0, ...(link ? { linkTarget: link } : {}) };
    index.set(p, cut < 0 ? list.add(-1, p, fields, `/src/${p}`) : list.add(index.get(p.slice(0, cut))!, p.slice(cut + 1), fields));
  }
  return list;
}

function manifest(specs: Spec[], extra: Record<string, Partial<PreviousEntry>> = {}): PreviousEntry[] {
  return specs.map(([path, type, size = 0, mtime = 1000, mode = type === 'directory' ? 0o755 : 0o644, link]) => ({
    path, type, size, mtime, mode, ...(type === 'file' ? { sha256: 'a'.repeat(64) } : {}), ...(link ? { linkTarget: link } : {}), ...extra[path],
  }));
}

const before: Spec[] = [['r', 'directory'], ['r/a', 'file', 10], ['r/b', 'file', 20], ['r/l', 'symlink', 0, 1000, 0o777, 'a'], ['r/old', 'directory'], ['r/old/f', 'file', 5], ['r/gone', 'directory'], ['r/gone/g', 'file', 7]];

describe('incremental plan', () => {
  it('without a previous snapshot, every entry is Y and every folder lists its children sorted by bytes', () => {
    const cur = walked([['r', 'directory'], ['r/b', 'file', 1], ['r/B', 'file', 1], ['r/é', 'file', 1], ['r/d', 'directory']]);
    const plan = planSnapshot(cur);
    assert.ok(plan.full);
    assert.deepEqual(plan.entries.map((e) => e.letter), ['D', 'Y', 'Y', 'Y', 'D']);
    assert.deepEqual(plan.dumpdir(0), encodeDumpdir([{ name: 'B', letter: 'Y' }, { name: 'b', letter: 'Y' }, { name: 'd', letter: 'D' }, { name: 'é', letter: 'Y' }]));
    assert.deepEqual(decodeDumpdir(plan.dumpdir(0)).children.map((c) => c.letter + c.name.toString()), ['YB', 'Yb', 'Dd', 'Yé']);
    assert.deepEqual(plan.counts, { added: 3, changedFiles: 0, removed: 0, uploadedBytes: 3 });
  });

  it('compares type, size, mtime, mode and link target, not contents; keeps `in` of unchanged entries', () => {
    const cur = walked([['r', 'directory'], ['r/a', 'file', 10], ['r/b', 'file', 20, 2000], ['r/l', 'symlink', 0, 1000, 0o777, 'b'], ['r/new', 'file', 3], ['r/old', 'directory'], ['r/old/f', 'file', 5, 1000, 0o600]]);
    const plan = planSnapshot(cur, { id: 'P', entries: manifest(before, { 'r/a': { in: 'F' } }) });
    assert.deepEqual(plan.entries.map((e) => e.letter), ['D', 'N', 'Y', 'Y', 'Y', 'D', 'Y']);
    assert.deepEqual(plan.entries[1]!.kept, { in: 'F', sha256: 'a'.repeat(64) });
    const moved = planSnapshot(cur, { id: 'P', entries: manifest(before, { 'r/a': { in: 'F', at: 'q/a' } }) });
    assert.deepEqual(moved.entries[1]!.kept, { in: 'F', at: 'q/a', sha256: 'a'.repeat(64) }, 'an earlier move is kept');
    assert.deepEqual(plan.counts, { added: 1, changedFiles: 3, removed: 1, uploadedBytes: 28 });
    assert.deepEqual(plan.removed, ['r/gone', 'r/gone/g']);
    const root = decodeDumpdir(plan.dumpdir(0));
    assert.deepEqual(root.children.map((c) => c.letter + c.name.toString()), ['Na', 'Yb', 'Yl', 'Ynew', 'Dold']);
  });

  it('a version 1 entry has its bytes in the previous archive', () => {
    const plan = planSnapshot(walked(before), { id: 'P', entries: manifest(before) });
    assert.ok(plan.entries.every((e) => e.letter !== 'Y'));
    assert.ok(plan.entries.every((e) => e.letter === 'D' || e.kept?.in === 'P'));
    assert.deepEqual(plan.counts, { added: 0, changedFiles: 0, removed: 0, uploadedBytes: 0 });
  });

  it('turns a folder moved with the same content into an R/T pair on its root, once its files are confirmed', () => {
    const after: Spec[] = [['r', 'directory'], ['r/a', 'file', 10], ['r/b', 'file', 20], ['r/l', 'symlink', 0, 1000, 0o777, 'a'], ['r/gone', 'directory'], ['r/gone/g', 'file', 7], ['r/x', 'directory'], ['r/x/new', 'directory'], ['r/x/new/f', 'file', 5]];
    const prev = { id: 'P', entries: manifest(before, { 'r/old/f': { in: 'F' } }) };
    const asked: string[] = [];
    const plan = planSnapshot(walked(after), prev, { confirmRename: (c) => (asked.push(`${c.from}>${c.to}:${c.files.map((f) => f.path)}`), true) });
    assert.deepEqual(asked, ['r/old>r/x/new:r/x/new/f']);
    assert.deepEqual(plan.renames, [['r/old', 'r/x/new']]);
    assert.deepEqual(plan.entries[8], { letter: 'N', change: 'moved', kept: { in: 'F', at: 'r/old/f', sha256: 'a'.repeat(64) } });
    assert.deepEqual(decodeDumpdir(plan.dumpdir(0)).renames.map(([a, b]) => `${a}>${b}`), ['r/old>r/x/new']);
    assert.deepEqual(decodeDumpdir(plan.dumpdir(6)).renames, [], 'only a root carries renames');
    assert.deepEqual(plan.counts, { added: 0, changedFiles: 0, removed: 0, uploadedBytes: 0 });
    const refused = planSnapshot(walked(after), prev, { confirmRename: () => false });
    assert.deepEqual(refused.renames, []);
    assert.equal(refused.entries[8]!.letter, 'Y');
    assert.deepEqual(refused.counts, { added: 1, changedFiles: 0, removed: 1, uploadedBytes: 5 });
  });
});

describe('needs', () => {
  const ids = ['A0', 'A1', 'A2', 'A3', 'A4'];
  const chain = (renamed: string[]) => {
    let c = fullChain('A0');
    for (const id of ids.slice(1)) c = nextChain(c, id, renamed.includes(id));
    return c;
  };

  it('holders are read from the entries: `in`, chunk archives, and the own archive for the rest', () => {
    const file = { type: 'file' };
    assert.deepEqual([...holdersOf([{ type: 'directory' }, { ...file, in: 'A1' }, { ...file, chunks: [['h', 1, 'A2']] }], 'A4')], ['A1', 'A4', 'A2']);
    assert.deepEqual([...holdersOf([{ type: 'directory' }, { ...file, in: 'A1' }], 'A4')], ['A1']);
  });

  it('is the holders and the own archive, oldest first', () => {
    assert.deepEqual(chainNeeds(chain([]), ['A2', 'A0']), ['A0', 'A2', 'A4']);
    assert.deepEqual(chainNeeds(chain([]), []), ['A4']);
  });

  it('adds the archives with renames after the oldest holder, and the one before each of those', () => {
    assert.deepEqual(chainNeeds(chain(['A3']), ['A2']), ['A2', 'A3', 'A4']);
    assert.deepEqual(chainNeeds(chain(['A3']), ['A0']), ['A0', 'A2', 'A3', 'A4']);
    assert.deepEqual(chainNeeds(chain(['A1']), ['A2']), ['A2', 'A4'], 'renames before the oldest holder do not matter');
    assert.deepEqual(chainNeeds(chain(['A2', 'A4']), ['A3']), ['A3', 'A4'], 'the first archive read applies no renames: its roots are not on disk yet');
    assert.deepEqual(chainNeeds(chain(['A2', 'A4']), ['A1']), ['A1', 'A2', 'A3', 'A4']);
  });

  it('refuses a holder outside the chain and ids that do not move forward', () => {
    assert.throws(() => chainNeeds(chain([]), ['B1']), /not in the chain/);
    assert.throws(() => nextChain(fullChain('A5'), 'A4', false), /does not come after/);
  });
});
