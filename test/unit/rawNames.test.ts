/**
 * File names that are not UTF-8, on the backup side: the name codec against Python's
 * surrogateescape, the walk, the tar bytes against what GNU tar writes and reads, and the
 * content fingerprint.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync } from 'node:fs';
import * as path from 'node:path';
import { fromBytes, readableName, toBytes } from '../../src/core/model/rawNames';
import { walk } from '../../src/core/pack/walk';
import { packTar, tarSizeBound } from '../../src/core/pack/tarWriter';
import { contentFingerprint } from '../../src/core/catalog/manifest';
import { makeRawTree, rawSnapshot } from '../helpers/rawTree';
import { tempDir } from '../helpers/tree';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

/** What Python makes of each byte string with bytes.decode('utf-8', 'surrogateescape'). */
function pythonSurrogateescape(names: readonly Buffer[]): string[] {
  const script = 'import sys,json\nfor l in sys.stdin.read().split():\n print(json.dumps(bytes.fromhex(l).decode("utf-8","surrogateescape")))';
  const res = spawnSync('python3', ['-c', script], { input: names.map((n) => n.toString('hex') || '00').join('\n') });
  assert.equal(res.status, 0, res.stderr.toString());
  return res.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as string);
}

async function tarOf(paths: string[]): Promise<Buffer> {
  const scanned = await walk(paths);
  assert.deepEqual(scanned.skipped, []);
  const chunks: Buffer[] = [];
  for await (const c of packTar(scanned.entries).stream) chunks.push(Buffer.from(c));
  const tar = Buffer.concat(chunks);
  assert.equal(tarSizeBound(scanned.entries), tar.length, 'the size bound counts the names\' bytes');
  return tar;
}

/** The PAX records of each extended header in a tar, by the entry name that follows it. */
function paxRecords(tar: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let at = 0; at + 512 <= tar.length && tar[at] !== 0; ) {
    const size = parseInt(tar.subarray(at + 124, at + 136).toString('latin1').replace(/\0.*$/, '').trim() || '0', 8);
    if (tar[at + 156] === 0x78) {
      const records: Buffer[] = [];
      for (let body = tar.subarray(at + 512, at + 512 + size); body.length > 0; ) {
        const len = parseInt(body.subarray(0, body.indexOf(0x20)).toString('latin1'), 10);
        records.push(body.subarray(0, len));
        body = body.subarray(len);
      }
      out.push(records);
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe('raw names: the codec', () => {
  it('decodes any bytes exactly as Python surrogateescape does, and back to the same bytes', () => {
    const fixed = ['caf\xe9', '\xff\xfe', '\xed\xa0\x80', '\xc0\xaf', '\xe0\x80\xaf', '\xf4\x90\x80\x80', '\xf0\x9f\x98', '\xef\xbb\xbfbom', '\xc3\xa9\xe9', 'a\xf0\x9f\x98\x80\xe9'].map(latin1);
    const pieces = [0x41, 0x2f, 0x80, 0xbf, 0xc2, 0xc3, 0xa9, 0xe0, 0xed, 0xa0, 0xef, 0xf0, 0x90, 0xf4, 0x8f, 0xff];
    const random = Array.from({ length: 400 }, () => Buffer.from(Array.from(randomBytes(1 + (randomBytes(1)[0]! % 8)), (r) => pieces[r % pieces.length]!)));
    const names = [...fixed, ...random];
    const python = pythonSurrogateescape(names);
    names.forEach((bytes, i) => {
      const s = fromBytes(bytes);
      assert.equal(s, python[i], `bytes ${bytes.toString('hex')}`);
      assert.ok(toBytes(s).equals(bytes), `round trip of ${bytes.toString('hex')}`);
    });
    const distinct = new Set(names.map((n) => n.toString('hex'))).size;
    assert.equal(new Set(names.map(fromBytes)).size, distinct, 'no two byte strings share a string');
  });

  it('leaves UTF-8 as Node decodes it, and shows other bytes as \\xHH', () => {
    assert.equal(fromBytes(Buffer.from('Ünïcödé 日本 😀')), 'Ünïcödé 日本 😀');
    assert.equal(readableName(fromBytes(latin1('dir/caf\xe9.txt'))), 'dir/caf\\xE9.txt');
    assert.equal(readableName(fromBytes(latin1('\xf0\x9f\x98\x80\xff'))), '😀\\xFF');
    assert.equal(readableName('plain/name'), 'plain/name');
  });
});

describe('raw names: backing up', () => {
  it('walks every name that is not UTF-8 instead of skipping it', async () => {
    const src = path.join(tempDir(), 'src');
    mkdirSync(src);
    const made = makeRawTree(src);
    const scanned = await walk([src]);
    assert.deepEqual(scanned.skipped, []);
    const walked = [...scanned.entries].map((e) => toBytes(e.path).toString('hex')).sort();
    assert.deepEqual(walked, ['src', ...made.map((n) => `src/${n.toString('latin1')}`)].map((n) => latin1(n).toString('hex')).sort());
    const link = [...scanned.entries].find((e) => e.type === 'symlink')!;
    assert.ok(toBytes(link.linkTarget!).equals(latin1('caf\xe9.txt')), 'the link target is its bytes');
  });

  it('writes a tar GNU tar unpacks to the same bytes, with the path record GNU tar writes and hdrcharset=BINARY', async () => {
    const parent = tempDir();
    const src = path.join(parent, 'src');
    mkdirSync(src);
    makeRawTree(src);
    const ours = await tarOf([src]);

    const out = tempDir();
    const x = spawnSync('tar', ['-x', '-f', '-', '-C', out], { input: ours });
    assert.equal(x.status, 0, x.stderr.toString());
    assert.deepEqual(rawSnapshot(path.join(out, 'src')), rawSnapshot(src));

    const gnu = spawnSync('tar', ['--format=pax', '-c', '-f', '-', '-C', parent, 'src'], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
    assert.equal(gnu.status, 0, gnu.stderr.toString());
    const pathRecords = (tar: Buffer): string[] => paxRecords(tar).flatMap((r) => r.filter((rec) => /^\d+ path=/.test(rec.toString('latin1')))).map((r) => r.toString('hex')).sort();
    assert.deepEqual(pathRecords(ours), pathRecords(gnu.stdout), 'byte for byte the path records GNU tar writes');
    const binary = paxRecords(ours).filter((r) => r[0]!.toString() === '21 hdrcharset=BINARY\n');
    assert.equal(binary.length, 6, 'hdrcharset=BINARY leads each header of a name or target that is not UTF-8');
    assert.ok(
      paxRecords(ours).some((r) => r.some((rec) => rec.equals(latin1('21 linkpath=caf\xe9.txt\n')))),
      'the link target is written as its bytes',
    );
  });

  it('gives Python tarfile the names it reads from GNU tar', async () => {
    const src = path.join(tempDir(), 'src');
    mkdirSync(src);
    makeRawTree(src);
    const ours = await tarOf([src]);
    const script = 'import sys,json,tarfile,io\nfor m in tarfile.open(fileobj=io.BytesIO(sys.stdin.buffer.read())): print(json.dumps([m.name, m.linkname]))';
    const res = spawnSync('python3', ['-c', script], { input: ours });
    assert.equal(res.status, 0, res.stderr.toString());
    const read = res.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as [string, string]);
    const scanned = await walk([src]);
    assert.deepEqual(read, [...scanned.entries].map((e) => [e.path, e.linkTarget ?? '']));
  });

  it('fingerprints such names stably, and tells apart two that differ in one byte', async () => {
    const src = path.join(tempDir(), 'src');
    mkdirSync(src);
    makeRawTree(src);
    const print = async (): Promise<string> => {
      const s = await walk([src]);
      return contentFingerprint(s.roots, s.entries);
    };
    const first = await print();
    assert.equal(await print(), first, 'unchanged files, unchanged fingerprint');
    const b = Buffer.from(src);
    renameSync(Buffer.concat([b, latin1('/caf\xe9.txt')]), Buffer.concat([b, latin1('/caf\xe8.txt')]));
    assert.notEqual(await print(), first, 'é (0xE9) renamed to è (0xE8) is a change');
  });
});
