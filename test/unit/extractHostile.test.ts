/**
 * The safe extractor against archives made to cost time (deep nesting, many siblings deep down)
 * and GNU sparse files: real GNU tar output restored with its holes, crafted maps refused.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { extractTar } from '../../src/core/pack/safeExtract';
import { assertNothingOutside, assertRefused, from, stage } from '../helpers/extract';
import { tempDir } from '../helpers/tree';

const sha = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

function python(script: string, ...args: string[]): void {
  const res = spawnSync('python3', ['-c', script, ...args]);
  assert.equal(res.status, 0, res.stderr.toString());
}

describe('deep trees', () => {
  it('2,000 nested folders and 6,000 files at depth 1,990 extract in seconds', async () => {
    const tarFile = path.join(tempDir('gb-deep-'), 'deep.tar');
    python(
      [
        'import io,sys,tarfile',
        't=tarfile.open(sys.argv[1],"w",format=tarfile.PAX_FORMAT)',
        'p=""',
        'for i in range(2000):',
        '  p+="d/"; ti=tarfile.TarInfo(p[:-1]); ti.type=tarfile.DIRTYPE; ti.mode=0o755; t.addfile(ti)',
        'base="d/"*1990',
        'for i in range(6000):',
        '  ti=tarfile.TarInfo(base+"f%d"%i); ti.size=1; t.addfile(ti,io.BytesIO(b"x"))',
        't.close()',
      ].join('\n'),
      tarFile,
    );
    const bytes = readFileSync(tarFile);
    const s = stage();
    const started = Date.now();
    const got = await extractTar(from(bytes, 1 << 16), { root: s.root });
    const took = Date.now() - started;
    assert.equal(got.length, 8000);
    // Linear work: a few seconds on an idle machine (most of it the kernel resolving 2,000-deep
    // paths); the quadratic version took over 120 s. The bound leaves room for a loaded CI runner.
    assert.ok(took < 60_000, `took ${took} ms`);
    assert.equal(readFileSync(path.join(s.root, 'd/'.repeat(1990), 'f5999'), 'utf8'), 'x');
    assertNothingOutside(s);
    const checked = Date.now();
    assert.equal((await extractTar(from(bytes, 1 << 16), { root: s.root, write: false })).length, 8000);
    assert.ok(Date.now() - checked < 15_000);
  });
});

describe('GNU sparse files', () => {
  /** A 9 MiB file with 6 bytes at 3 MiB and 3 bytes at 7 MiB, as GNU tar stores it. */
  function gnuSparseTar(version: string): { tar: Buffer; file: Buffer } {
    const dir = tempDir('gb-sparse-');
    const img = path.join(dir, 'disk.img');
    python('import sys\nf=open(sys.argv[1],"wb")\nf.seek(3<<20);f.write(b"middle")\nf.seek(7<<20);f.write(b"end")\nf.truncate(9<<20)', img);
    const tarFile = path.join(dir, 'sparse.tar');
    const res = spawnSync('tar', ['--sparse', `--sparse-version=${version}`, '--format=pax', '-C', dir, '-cf', tarFile, 'disk.img']);
    assert.equal(res.status, 0, res.stderr.toString());
    return { tar: readFileSync(tarFile), file: readFileSync(img) };
  }

  for (const version of ['1.0', '0.1']) {
    it(`format ${version} from GNU tar is restored with its holes, and checked alike`, async () => {
      const { tar, file } = gnuSparseTar(version);
      const s = stage();
      const got = await extractTar(from(tar), { root: s.root });
      assert.deepEqual(
        got.map((e) => [e.path, e.type, e.size, e.sha256]),
        [['disk.img', 'file', 9 << 20, sha(file)]],
      );
      const out = path.join(s.root, 'disk.img');
      assert.ok(readFileSync(out).equals(file));
      assert.ok(statSync(out).blocks * 512 < 1 << 20, 'holes stay holes');
      const checked = await extractTar(from(tar), { root: s.root, write: false });
      assert.deepEqual(checked, got);
      assertNothingOutside(s);
    });
  }

  it('format 0.0 is refused', async () => {
    const { tar } = gnuSparseTar('0.0');
    const s = stage();
    await assert.rejects(extractTar(from(tar), { root: s.root }), /refused entry "disk\.img": a sparse file in GNU format 0\.0, which is not restored/);
  });

  const v1 = (map: string, realsize: string, data: Buffer | string = Buffer.alloc(0)): Parameters<typeof assertRefused>[0] => {
    const padded = Buffer.concat([Buffer.from(map), Buffer.alloc((512 - (Buffer.byteLength(map) % 512)) % 512)]);
    return [
      {
        name: 'GNUSparseFile.1/x',
        type: 'file',
        pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'x', 'GNU.sparse.realsize': realsize },
        body: Buffer.concat([padded, Buffer.from(data)]),
      },
    ];
  };
  const crafted: [string, Parameters<typeof assertRefused>[0], RegExp][] = [
    ['overlapping segments', v1('2\n0\n10\n5\n10\n', '100', 'x'.repeat(20)), /segments overlap or pass the end/],
    ['a segment past the real size', v1('1\n95\n10\n', '100', 'x'.repeat(10)), /segments overlap or pass the end/],
    ['a map that does not add up to the data', v1('1\n0\n10\n', '100', 'x'.repeat(30)), /does not add up to the data stored/],
    ['a map that is not numbers', v1('1\n0x\n10\n', '100', 'x'.repeat(10)), /sparse map is not a list of numbers/],
    [
      'a map cut short by the end of the entry',
      [{ name: 'GNUSparseFile.1/x', type: 'file', pax: { 'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.name': 'x', 'GNU.sparse.realsize': '100' }, body: '3\n0\n10\n' }],
      /ends inside its map/,
    ],
    ['a real size of 2 TiB', v1('1\n0\n1\n', String(2 ** 41), 'x'), /a sparse file of 2199023255552 bytes, more than/],
    ['a negative real size', v1('1\n0\n1\n', '-1', 'x'), /a bad number/],
    ['a map of a billion segments', v1('1000000000\n', '100'), /a sparse map of more than 1000000 segments/],
    [
      'a 0.1 map with an odd count of numbers',
      [{ name: 'x', type: 'file', pax: { 'GNU.sparse.name': 'x', 'GNU.sparse.size': '10', 'GNU.sparse.map': '0,5,9' }, body: 'x'.repeat(5) }],
      /odd count of numbers/,
    ],
    [
      'a sparse name that climbs out',
      [{ name: 'x', type: 'file', pax: { 'GNU.sparse.name': '../escape', 'GNU.sparse.size': '10', 'GNU.sparse.map': '0,5' }, body: 'x'.repeat(5) }],
      /refused entry "\.\.\/escape": "\.\." segment/,
    ],
  ];
  for (const [what, entries, message] of crafted) {
    it(`refuses ${what}`, async () => {
      await assertRefused(entries, message);
    });
  }
});
