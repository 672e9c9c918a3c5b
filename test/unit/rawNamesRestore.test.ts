/**
 * File names that are not UTF-8, on the restore side: tars written by GNU tar (pax, gnu, ustar) and
 * Python's tarfile restore to the same bytes; hostile names keep being refused when their bytes
 * are not UTF-8; manifests record such names, and their `pathBytes` are checked as untrusted.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { extractTar } from '../../src/core/pack/safeExtract';
import { walk } from '../../src/core/pack/walk';
import { packTar } from '../../src/core/pack/tarWriter';
import { entryName, fromBytes } from '../../src/core/model/rawNames';
import { manifestJson, parseManifest, type Manifest, type NewManifest } from '../../src/core/catalog/manifest';
import { matchManifest, subsetFilter } from '../../src/core/jobs/download';
import { GlacierError } from '../../src/core/errors';
import { makeRawTree, rawSnapshot } from '../helpers/rawTree';
import { tempDir } from '../helpers/tree';

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

async function* once(bytes: Buffer): AsyncGenerator<Uint8Array> {
  yield bytes;
}

interface PySpec {
  name: string;
  type?: 'file' | 'dir' | 'symlink';
  data?: string;
  link?: string;
}

/** A tar written by Python's tarfile; names and link targets are Latin-1 strings standing for bytes. */
function pythonTar(entries: PySpec[], format: 'pax' | 'gnu' = 'pax'): Buffer {
  const script = `
import sys, json, tarfile, io
spec = json.load(sys.stdin)
buf = io.BytesIO()
fmt = tarfile.PAX_FORMAT if spec['format'] == 'pax' else tarfile.GNU_FORMAT
raw = lambda s: s.encode('latin-1').decode('utf-8', 'surrogateescape')
with tarfile.open(fileobj=buf, mode='w', format=fmt, encoding='utf-8', errors='surrogateescape') as t:
    for e in spec['entries']:
        ti = tarfile.TarInfo(raw(e['name']))
        data = e.get('data', '').encode()
        if e.get('type') == 'dir': ti.type = tarfile.DIRTYPE
        elif e.get('type') == 'symlink': ti.type, ti.linkname = tarfile.SYMTYPE, raw(e['link'])
        else: ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
sys.stdout.buffer.write(buf.getvalue())`;
  const res = spawnSync('python3', ['-c', script], { input: JSON.stringify({ format, entries }) });
  assert.equal(res.status, 0, res.stderr.toString());
  return res.stdout;
}

/** A staging root with an empty sibling that must stay empty. */
function stage(): { parent: string; root: string } {
  const parent = tempDir('gb-raw-');
  mkdirSync(path.join(parent, 'root'));
  mkdirSync(path.join(parent, 'outside'));
  return { parent, root: path.join(parent, 'root') };
}

async function assertRefused(entries: PySpec[], message: RegExp): Promise<void> {
  const s = stage();
  await assert.rejects(extractTar(once(pythonTar(entries)), { root: s.root }), (err: unknown) => {
    assert.ok(err instanceof GlacierError && err.code === 'corrupt', String(err));
    assert.match(err.message, message);
    assert.doesNotMatch(err.message, /\ufffd|[\udc80-\udcff]/, 'the message shows the bytes readably');
    return true;
  });
  assert.deepEqual(readdirSync(path.join(s.parent, 'outside')), []);
  assert.deepEqual(readdirSync(s.parent).sort(), ['outside', 'root']);
}

describe('raw names: restoring', () => {
  for (const format of ['pax', 'gnu', 'ustar']) {
    it(`restores a GNU tar --format=${format} archive to the same bytes`, async () => {
      const parent = tempDir();
      const src = path.join(parent, 'src');
      mkdirSync(src);
      makeRawTree(src);
      // a name over 100 bytes: a GNU long name, or a PAX path (ustar cannot hold it)
      if (format !== 'ustar') mkdirSync(Buffer.concat([Buffer.from(src), latin1(`/${'\xe9'.repeat(110)}`)]));
      const tar = spawnSync('tar', [`--format=${format}`, '-c', '-f', '-', '-C', parent, 'src'], { env: { ...process.env, LC_ALL: 'C.UTF-8' } });
      assert.equal(tar.status, 0, tar.stderr.toString());
      const s = stage();
      await extractTar(once(tar.stdout), { root: s.root });
      assert.deepEqual(rawSnapshot(path.join(s.root, 'src')), rawSnapshot(src));
    });
  }

  it('restores the names of a Python tarfile archive (hdrcharset=BINARY) as their bytes, each one its own file', async () => {
    const s = stage();
    const got = await extractTar(once(pythonTar([
      { name: 'd/\xe9', data: 'latin-1' },
      { name: 'd/\xef\xbf\xbd', data: 'a real U+FFFD' },
      { name: 'd/\xff', data: 'another byte' },
      { name: 'd/l\xe9', type: 'symlink', link: '\xe9' },
    ])), { root: s.root });
    assert.deepEqual(readdirSync(Buffer.from(path.join(s.root, 'd')), { encoding: 'buffer' }).map((n) => n.toString('latin1')).sort(), ['l\xe9', '\xe9', '\xef\xbf\xbd', '\xff']);
    assert.deepEqual(got.map((e) => e.path), ['d/\udce9', 'd/\ufffd', 'd/\udcff', 'd/l\udce9']);
  });

  it('counts a name\'s length in its bytes', async () => {
    const s = stage();
    const segment = '\xe9'.repeat(250);
    await extractTar(once(pythonTar([{ name: Array(6).fill(segment).join('/'), data: 'deep' }])), { root: s.root });
    await assertRefused([{ name: Array(17).fill(segment).join('/'), data: 'x' }], /longer than 4096 bytes/);
  });

  const hostile: [string, PySpec[], RegExp][] = [
    ['a ".." segment next to such bytes', [{ name: '\xe9/../../x\xe9', data: 'x' }], /"\\xE9\/..\/..\/x\\xE9": ".." segment/],
    ['an absolute name', [{ name: '/tmp/\xe9', data: 'x' }], /absolute path/],
    ['a NUL byte', [{ name: 'a\x00\xe9', data: 'x' }], /NUL byte/],
    ['a link whose target leaves the root', [{ name: 'l\xe9', type: 'symlink', link: '../\xe9' }], /leaves the root/],
    ['a write through a link named so', [{ name: 'l\xe9', type: 'symlink', link: '.' }, { name: 'l\xe9/x', data: 'x' }], /writes through a symlink \("l\\xE9"\)/],
    ['the same bytes twice', [{ name: '\xe9', data: 'a' }, { name: '\xe9', data: 'b' }], /"\\xE9": duplicate entry/],
    ['a backslash among such bytes', [{ name: '\xe9\\..\\x', data: 'x' }], /backslash/],
  ];
  for (const [what, entries, message] of hostile) {
    it(`refuses ${what}, naming it readably`, () => assertRefused(entries, message));
  }
});

describe('raw names: the manifest', () => {
  const id = '20260102T030405Z-0123456789abcdef';

  async function manifestOf(src: string): Promise<Manifest> {
    const scanned = await walk([src]);
    const packed = packTar(scanned.entries);
    for await (const _ of packed.stream);
    const entries = (await packed.report).entries;
    const m: NewManifest = { format: 'glacier-backup/manifest', version: 1, id, created: '2026-01-02T03:04:05.000Z', label: 'l', host: 'h', sources: scanned.roots, fingerprint: '0'.repeat(64),
      archive: { key: 'k', tarSize: 1, size: 1, sha256: '1'.repeat(64), storageClass: 'STANDARD' }, encryption: { mode: 'passphrase', recipients: [] },
      fileCount: entries.fileCount, fileBytes: entries.fileBytes, entries, skipped: [], changed: [] };
    return parseManifest(Buffer.from([...manifestJson(m)].join('')), id);
  }

  it('records a readable path and the bytes, and reads back the names the tar holds', async () => {
    const src = path.join(tempDir(), 'src');
    mkdirSync(src);
    makeRawTree(src);
    const m = await manifestOf(src);
    const scanned = await walk([src]);
    assert.deepEqual(m.entries.map(entryName), [...scanned.entries].map((e) => e.path));
    const cafe = m.entries.find((e) => e.path === 'src/caf\\xE9.txt')!;
    assert.equal(Buffer.from(cafe.pathBytes!, 'base64').toString('latin1'), 'src/caf\xe9.txt');
    assert.equal(m.entries.find((e) => e.path.startsWith('src/replacement-'))!.pathBytes, undefined, 'valid UTF-8 needs no bytes');
    const link = m.entries.find((e) => e.type === 'symlink')!;
    assert.deepEqual([link.linkTarget, Buffer.from(link.linkTargetBytes!, 'base64').toString('latin1')], ['caf\\xE9.txt', 'caf\xe9.txt']);
    assert.ok(subsetFilter(['src/caf\\xE9.txt'])(fromBytes(latin1('src/caf\xe9.txt'))), '--only takes the readable form');
  });

  it('matches by bytes: a manifest name that only reads the same is not the archive\'s', () => {
    const m = { id, archive: { size: 1, sha256: 's' } } as Manifest;
    const got = [{ path: fromBytes(latin1('caf\xe9')), type: 'file' as const, size: 0, mtime: 0, mode: 0, sha256: 'x' }];
    matchManifest(m, 1, 's', [{ path: 'caf\\xE9', pathBytes: latin1('caf\xe9').toString('base64'), type: 'file', size: 0, mtime: 0, mode: 0, sha256: 'x' }], got);
    assert.throws(() => matchManifest(m, 1, 's', [{ path: 'caf\\xE9', type: 'file', size: 0, mtime: 0, mode: 0, sha256: 'x' }], got), /lacks "caf\\xE9"/);
  });

  const b64 = (s: string): string => latin1(s).toString('base64');
  const base = { format: 'glacier-backup/manifest', version: 1, id, created: '2026-01-02T03:04:05.000Z', label: 'l', host: 'h', sources: [], fingerprint: '0'.repeat(64),
    archive: { key: 'k', tarSize: 1, size: 1, sha256: '1'.repeat(64), storageClass: 'STANDARD' }, encryption: { mode: 'passphrase', recipients: [] }, fileCount: 0, fileBytes: 0 };
  const file = { type: 'file', size: 0, mtime: 0, mode: 420, sha256: '2'.repeat(64) };
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['pathBytes that are not a string', { path: 'a', pathBytes: 7, ...file }, /not base64/],
    ['pathBytes that are not canonical base64', { path: 'caf\\xE9', pathBytes: `${b64('caf\xe9')}\n`, ...file }, /not canonical base64/],
    ['pathBytes that are valid UTF-8', { path: 'a', pathBytes: b64('a'), ...file }, /valid UTF-8/],
    ['pathBytes with a NUL', { path: 'a\0\\xE9', pathBytes: b64('a\0\xe9'), ...file }, /NUL byte/],
    ['pathBytes with a ".." segment', { path: '\\xE9/../x', pathBytes: b64('\xe9/../x'), ...file }, /"\." or "\.\." segment/],
    ['absolute pathBytes', { path: '/\\xE9', pathBytes: b64('/\xe9'), ...file }, /absolute path/],
    ['pathBytes with an empty segment', { path: 'a//\\xE9', pathBytes: b64('a//\xe9'), ...file }, /empty/],
    ['pathBytes whose readable form is not the path', { path: 'innocent.txt', pathBytes: b64('../\xe9'), ...file }, /does not match its readable form/],
    ['pathBytes over 4096 bytes', { path: 'x', pathBytes: b64('\xe9'.repeat(4097)), ...file }, /1 to 4096 bytes/],
    ['a path holding a lone surrogate (a second spelling of the bytes)', { path: 'caf\udce9', ...file }, /not valid Unicode/],
    ['linkTargetBytes on a file', { path: 'a', linkTargetBytes: b64('\xe9'), ...file }, /not a symlink/],
    ['linkTargetBytes that do not match the target', { path: 'a', type: 'symlink', size: 0, mtime: 0, mode: 511, linkTarget: 'b', linkTargetBytes: b64('\xe9') }, /does not match/],
  ];
  for (const [what, entry, message] of cases) {
    it(`refuses a manifest entry with ${what}`, () => {
      const bytes = Buffer.from(JSON.stringify({ ...base, entries: [entry], skipped: [], changed: [] }));
      assert.throws(() => parseManifest(bytes, id), (err: unknown) => err instanceof GlacierError && err.code === 'corrupt' && message.test(err.message));
    });
  }
});
