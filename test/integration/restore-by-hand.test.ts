import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { Gpg } from '../helpers/gpg';
import { snapshot, tempDir } from '../helpers/tree';
import { writeSnapshot, type Snapshot } from '../helpers/incremental';
import { chainNeeds, fullChain, holdersOf, nextChain, type ChainInfo } from '../../src/core/model/chain';

const MiB = 1024 * 1024;
const day = (n: number): Date => new Date(Date.UTC(2026, 0, n, 12));

/** The doc's procedure, exactly as written: the one fenced block whose info string is `sh restore-by-hand`. */
function restoreBlock(): string {
  const doc = readFileSync(path.join(__dirname, '..', '..', 'docs', 'format.md'), 'utf8');
  const blocks = [...doc.matchAll(/^```sh restore-by-hand\n([\s\S]*?)^```$/gm)];
  assert.equal(blocks.length, 1, 'docs/format.md has one restore-by-hand block');
  return blocks[0]![1]!;
}

function write(file: string, content: string | Buffer, when = day(1), mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
  chmodSync(file, mode);
  utimesSync(file, when, when);
}

describe('restoring a snapshot without glacier-backup: the documented sh block', () => {
  const gpg = new Gpg();
  after(() => gpg.dispose());

  it('rebuilds each snapshot of a chain from its needs, with chunked files, deletions and a rename', async () => {
    const key = gpg.generateKey('Restore By Hand <rbh@example.com>', '', 'default');
    const work = tempDir();
    const src = path.join(work, 'data');
    const big = randomBytes(16 * MiB);
    write(path.join(src, 'vm', 'disk.img'), big, day(1), 0o640);
    write(path.join(src, 'vm', 'other.img'), randomBytes(3 * MiB), day(1), 0o600);
    write(path.join(src, 'notes.txt'), 'notes');
    write(path.join(src, 'gone.txt'), 'gone');
    write(path.join(src, 'album', 'a.jpg'), randomBytes(10_000));
    write(path.join(src, 'odd', 'back\\slash and\nnewline.txt'), 'odd');
    const options = { chunkThreshold: 1 * MiB };
    let chain: ChainInfo | undefined;
    const archives: string[] = [];
    const snapshots: Snapshot[] = [];

    const backUpAndRestore = async (n: number): Promise<Snapshot> => {
      for (const d of ['vm', 'odd', '']) if (existsSync(path.join(src, d))) utimesSync(path.join(src, d), day(n), day(n));
      const id = `2026010${n}T000000Z-000000000000000${n}`;
      const tarFile = path.join(work, `${id}.tar`);
      const s = await writeSnapshot([src], tarFile, id, snapshots.at(-1), options);
      chain = chain ? nextChain(chain, id, s.plan.renames.length > 0) : fullChain(id);
      const enc = gpg.run(['--trust-model', 'always', '--recipient', key.fingerprint, '--output', `${tarFile}.gpg`, '--encrypt', tarFile]);
      assert.equal(enc.status, 0, enc.stderr);
      archives.push(`${tarFile}.gpg`);
      snapshots.push(s);
      const needs = chainNeeds(chain, holdersOf(s.entries, id));
      const dest = path.join(work, `dest-${n}`);
      mkdirSync(dest);
      const run = spawnSync('sh', ['-c', restoreBlock()], {
        env: { PATH: process.env.PATH, HOME: work, GNUPGHOME: gpg.home, ARCHIVES: needs.map((x) => path.join(work, `${x}.tar.gpg`)).join(' '), DEST: dest },
      });
      assert.equal(run.status, 0, `the block fails: ${run.stderr.toString()}`);
      assert.deepEqual(snapshot(dest), snapshot(work, (rel) => rel !== 'data' && !rel.startsWith('data/')), `snapshot ${n}: the tree, its modes and mtimes`);
      return s;
    };

    const s1 = await backUpAndRestore(1);
    assert.ok(s1.result.newChunks >= 10, `${s1.result.newChunks} chunks`);

    // Day 2: one chunk's worth of the big file rewritten in place; a deletion, a change, a renamed folder.
    const edited = Buffer.from(big);
    randomBytes(4096).copy(edited, 9 * MiB);
    write(path.join(src, 'vm', 'disk.img'), edited, day(2), 0o640);
    rmSync(path.join(src, 'gone.txt'));
    write(path.join(src, 'notes.txt'), 'notes, day 2', day(2));
    renameSync(path.join(src, 'album'), path.join(src, 'album 2026'));
    const s2 = await backUpAndRestore(2);
    assert.deepEqual(s2.plan.renames, [['data/album', 'data/album 2026']]);
    assert.ok(s2.result.newChunks >= 1 && s2.result.newChunks <= 2, `${s2.result.newChunks} new chunks`);
    assert.ok(s2.result.storedBytes < 8.5 * MiB, `${s2.result.storedBytes} bytes stored`);
    const disk = s2.entries.find((e) => e.path === 'data/vm/disk.img')!;
    assert.ok(disk.chunks!.some((c) => c[2] === s1.id) && disk.chunks!.some((c) => c[2] === s2.id));
    assert.equal(s2.entries.find((e) => e.path === 'data/vm/other.img')?.in, s1.id);

    // Day 3: the other image is deleted (its chunks go), nothing else changes.
    rmSync(path.join(src, 'vm', 'other.img'));
    await backUpAndRestore(3);
    assert.equal(archives.length, 3);
  });
});
