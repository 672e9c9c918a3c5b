import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { snapshot, tempDir } from '../helpers/tree';
import { writeSnapshot } from '../helpers/incremental';
import { chainNeeds, fullChain, holdersOf, nextChain } from '../../src/core/model/chain';
import { encodeDumpdir } from '../../src/core/pack/incremental/dumpdir';
import { writeHeader, type Header } from '../../src/core/pack/tarHeader';

const day = (n: number): Date => new Date(Date.UTC(2026, 0, n, 12));

function extract(archives: string[], dest: string): void {
  for (const a of archives) {
    const res = spawnSync('tar', ['-x', '-G', '-f', a, '-C', dest]);
    assert.equal(res.status, 0, `tar -x -G ${path.basename(a)}: ${res.stderr.toString()}`);
  }
}

function write(file: string, content: string | Buffer, when = day(1)): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  utimesSync(file, when, when);
}

describe('GNU.dumpdir records: tar -x -G over the previous tree gives the next one', () => {
  it('applies changes, additions, deletions and a folder rename, with awkward names', async () => {
    const work = tempDir();
    const src = path.join(work, 'proj');
    write(path.join(src, 'a.txt'), 'first');
    write(path.join(src, 'keep.txt'), 'kept');
    write(path.join(src, 'del.txt'), 'to delete');
    write(path.join(src, 'name with spaces.txt'), 'spaces');
    write(path.join(src, 'new\nline.txt'), 'newline');
    write(path.join(src, 'Ünïcödé 日本.txt'), 'utf8');
    write(path.join(src, 'sub', 'x.txt'), 'x');
    write(path.join(src, 'sub', 'deleted dir', 'y.txt'), 'y');
    write(path.join(src, 'olddir', 'f1.txt'), 'f1');
    write(path.join(src, 'olddir', 'inner', 'f2.bin'), Buffer.alloc(5000, 7));
    symlinkSync('a.txt', path.join(src, 'link'));
    mkdirSync(path.join(src, 'empty folder'));
    utimesSync(path.join(src, 'empty folder'), day(1), day(1));
    const a0 = path.join(work, 'a0.tar');
    const s0 = await writeSnapshot([src], a0, '20260101T000000Z-0000000000000000');
    assert.ok(s0.plan.full);
    const dest = path.join(work, 'dest');
    mkdirSync(dest);
    extract([a0], dest);
    assert.deepEqual(snapshot(path.join(dest, 'proj')), snapshot(src), 'the full archive restores the tree');

    write(path.join(src, 'a.txt'), 'second, longer', day(2));
    rmSync(path.join(src, 'del.txt'));
    rmSync(path.join(src, 'sub', 'deleted dir'), { recursive: true });
    renameSync(path.join(src, 'olddir'), path.join(src, 'sub', 'newdir'));
    write(path.join(src, 'added.txt'), 'added');
    write(path.join(src, 'sub', 'new sub', 'z\nz.txt'), 'z');
    chmodSync(path.join(src, 'keep.txt'), 0o600);
    mkdirSync(path.join(src, 'sub', 'new empty'));
    for (const d of ['sub', '']) utimesSync(path.join(src, d), day(3), day(3));
    const a1 = path.join(work, 'a1.tar');
    const s1 = await writeSnapshot([src], a1, '20260102T000000Z-0000000000000000', s0);
    assert.deepEqual(s1.plan.renames, [['proj/olddir', 'proj/sub/newdir']]);
    assert.deepEqual(s1.plan.counts, { added: 2, changedFiles: 2, removed: 2, uploadedBytes: 'second, longer'.length + 'added'.length + 'z'.length + 'kept'.length });
    const listed = spawnSync('tar', ['-t', '-f', a1]).stdout.toString();
    assert.doesNotMatch(listed, /f2\.bin|Ünïcödé|name with spaces/, 'unchanged and moved files are not stored again');

    extract([a1], dest);
    assert.deepEqual(snapshot(path.join(dest, 'proj')), snapshot(src), 'the increment over the full gives the new tree');
    const fresh = path.join(work, 'fresh');
    mkdirSync(fresh);
    extract([a0, a1], fresh);
    assert.deepEqual(snapshot(path.join(fresh, 'proj')), snapshot(src));
    assert.equal(s1.entries.find((e) => e.path === 'proj/sub/newdir/inner/f2.bin')?.at, 'proj/olddir/inner/f2.bin');
  });

  it('restores each snapshot from its needs alone, skipping archives; an archive with renames needs the one before it', async () => {
    const work = tempDir();
    const src = path.join(work, 'p');
    write(path.join(src, 'y', 'g'), 'g', day(1));
    let chain = fullChain('20260101T000000Z-0000000000000001');
    let last = await writeSnapshot([src], path.join(work, `${chain.full}.tar`), chain.full);
    const ids = [chain.full];
    const step = async (n: number): Promise<string[]> => {
      utimesSync(src, day(n), day(n));
      const id = `2026010${n}T000000Z-000000000000000${n}`;
      last = await writeSnapshot([src], path.join(work, `${id}.tar`), id, last);
      chain = nextChain(chain, id, last.plan.renames.length > 0);
      ids.push(id);
      return chainNeeds(chain, holdersOf(last.entries, id));
    };
    const restores = (needs: string[], name: string): boolean => {
      const dest = path.join(work, name);
      mkdirSync(dest);
      const ok = needs.every((id) => spawnSync('tar', ['-x', '-G', '-f', path.join(work, `${id}.tar`), '-C', dest]).status === 0);
      return ok && JSON.stringify([...snapshot(path.join(dest, 'p'))]) === JSON.stringify([...snapshot(src)]);
    };
    const days = (...n: number[]): string[] => n.map((d) => ids[d - 1]!);

    write(path.join(src, 'y', 'g'), 'g2', day(2));
    assert.deepEqual(await step(2), days(2), 'every byte is in day 2');
    write(path.join(src, 'x', 'f1'), 'f1', day(3));
    assert.deepEqual(await step(3), days(2, 3));
    // Day 4: x moves under a folder that did not exist (GNU tar makes the parents), w is added.
    mkdirSync(path.join(src, 'n'));
    renameSync(path.join(src, 'x'), path.join(src, 'n', 'x2'));
    utimesSync(path.join(src, 'n'), day(4), day(4));
    write(path.join(src, 'w'), 'w', day(4));
    const d4 = await step(4);
    assert.deepEqual(last.plan.renames, [['p/x', 'p/n/x2']]);
    assert.deepEqual(d4, days(2, 3, 4));
    assert.ok(restores(d4, 'd4'));
    write(path.join(src, 'n', 'x2', 'f1'), 'f1, day 5', day(5));
    const d5 = await step(5);
    assert.deepEqual(d5, days(2, 3, 4, 5), 'day 3 holds nothing of day 5, but day 4 renames a folder day 3 made');
    assert.ok(restores(d5, 'd5'));
    assert.ok(!restores(days(2, 4, 5), 'd5-without-day-3'), 'without it, GNU tar cannot rename a folder that is not there');
    write(path.join(src, 'y', 'g'), 'g6', day(6));
    const d6 = await step(6);
    assert.deepEqual(d6, days(4, 5, 6), 'day 4 is read first, so its renames find no root and are not applied');
    assert.ok(restores(d6, 'd6'));
  });

  it('needs the list sorted by the names\' bytes: unsorted, GNU tar deletes a file it names', () => {
    const work = tempDir();
    const dest = path.join(work, 'dest');
    const names = ['b', 'a', 'C', 'é', 'z z'];
    mkdirSync(path.join(dest, 'd'), { recursive: true });
    for (const n of names) writeFileSync(path.join(dest, 'd', n), n);
    const dirHeader = (dumpdir: Buffer): Buffer => {
      const pieces: Buffer[] = [];
      const h: Header = { name: 'd/', type: 'directory', linkname: '', mode: 0o755, uid: 0, gid: 0, size: 0, mtimeMs: 0, dumpdir };
      writeHeader({ write: (b) => pieces.push(Buffer.from(b)), zeros: (n) => pieces.push(Buffer.alloc(n)) }, h);
      return Buffer.concat([...pieces, Buffer.alloc(1024)]);
    };
    const sorted = encodeDumpdir(names.map((name) => ({ name, letter: 'N' as const })));
    assert.equal(sorted.toString('latin1').split('\0')[0], 'NC', 'uppercase before lowercase: bytes, not locale');
    let res = spawnSync('tar', ['-x', '-G', '-f', '-', '-C', dest], { input: dirHeader(sorted) });
    assert.equal(res.status, 0, res.stderr.toString());
    assert.equal(snapshot(path.join(dest, 'd')).size, names.length, 'a sorted list keeps every file it names');
    const unsorted = Buffer.concat([...names.map((n) => Buffer.from(`N${n}\0`)), Buffer.from('\0')]);
    res = spawnSync('tar', ['-x', '-G', '-f', '-', '-C', dest], { input: dirHeader(unsorted) });
    assert.ok(snapshot(path.join(dest, 'd')).size < names.length, 'an unsorted list loses files it names');
  });
});
