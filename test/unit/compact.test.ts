// Compact per-file state (issue 5): walk order, the entry tables, and the manifest written in pieces.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, lstatSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { walk, type SourceEntry, type SourceRoot } from '../../src/core/pack/walk';
import { packTar } from '../../src/core/pack/tarWriter';
import { contentFingerprint, manifestJson, parseManifest, type NewManifest } from '../../src/core/catalog/manifest';
import { encryptSeipdPieces, encryptSeipdSync } from '../../src/core/crypto/seipd';
import { decryptBytes, encryptPieces, newSeipdParams } from '../../src/core/crypto/openpgp';
import { tempDir } from '../helpers/tree';

/** An independent, obviously correct walk: names sorted by code unit, depth first, lstat each. */
function reference(abs: string, archivePath: string, out: SourceEntry[]): void {
  const st = lstatSync(abs);
  const type = st.isDirectory() ? 'directory' : st.isSymbolicLink() ? 'symlink' : 'file';
  const e: SourceEntry = { path: archivePath, abs, type, size: type === 'file' ? st.size : 0, mtimeMs: Math.floor(st.mtimeMs), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  if (type === 'symlink') e.linkTarget = readlinkSync(abs);
  out.push(e);
  if (type !== 'directory') return;
  const names = readdirSync(abs).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const n of names) reference(path.join(abs, n), `${archivePath}/${n}`, out);
}

/** A tree of a few thousand entries in nested folders, with names whose order differs by locale. */
function makeTree(): string {
  const root = path.join(tempDir(), 'tree');
  const names = ['B', 'a', 'Z.txt', 'é', 'e', '_', '10', '9', 'a b', 'ä'];
  for (let d = 0; d < 12; d++) {
    const dir = path.join(root, names[d % names.length]! + d, names[(d * 7) % names.length]!);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < 250; f++) writeFileSync(path.join(dir, `${names[f % names.length]}-${f}`), 'x'.repeat(f % 7));
  }
  symlinkSync('a0', path.join(root, 'link'));
  return root;
}

describe('walk with compact entries', () => {
  it('lists the same entries in the same order as a plain depth-first walk, run after run', async () => {
    const root = makeTree();
    const expected: SourceEntry[] = [];
    reference(root, 'tree', expected);
    const first = await walk([root], { exclude: [] });
    assert.equal(first.entries.length, expected.length);
    assert.ok(expected.length > 3000);
    assert.deepEqual([...first.entries], expected);
    const again = await walk([root], { exclude: [] });
    assert.deepEqual([...again.entries].map((e) => e.path), expected.map((e) => e.path));
  });

  it('lets the event loop run during a long walk, and stops there when cancelled', async () => {
    const root = makeTree();
    let turns = 0;
    let running = true;
    const spin = (): void => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    const { entries } = await walk([root], { exclude: [] });
    running = false;
    assert.ok(turns >= Math.floor(entries.length / 1000), `${turns} turns for ${entries.length} entries`);

    // A signal that turns aborted after its first check (before the first root): the walk must see it at a yield.
    let checks = 0;
    const signal = {
      get aborted() {
        return ++checks > 1;
      },
    } as AbortSignal;
    await assert.rejects(walk([root], { exclude: [], signal }), /backup cancelled/);
    assert.equal(checks, 2);
  });

  it('gives fresh entry objects each time, so a caller changing one changes nothing else', async () => {
    const root = makeTree();
    const { entries } = await walk([root], { exclude: [] });
    const e = entries.get(5);
    e.path = 'changed';
    assert.notEqual(entries.get(5).path, 'changed');
    assert.throws(() => entries.get(entries.length), RangeError);
  });

  it('keeps the content fingerprint of earlier versions (one hash update per entry)', async () => {
    const root = makeTree();
    const { roots, entries } = await walk([root], { exclude: [] });
    const h = createHash('sha256');
    h.update(JSON.stringify(roots.map((r: SourceRoot) => [r.path, r.name, r.type])));
    for (const e of entries) h.update(`\n${JSON.stringify([e.path, e.type, e.size, e.mtimeMs, e.mode, e.linkTarget ?? null])}`);
    assert.equal(contentFingerprint(roots, entries), h.digest('hex'));
  });
});

describe('manifest written in pieces', () => {
  const id = '20260102T030405Z-0123456789abcdef';
  const header = {
    format: 'glacier-backup/manifest' as const,
    version: 1 as const,
    id,
    created: '2026-01-02T03:04:05.000Z',
    label: 'tree "quoted" ✓',
    host: 'h',
    sources: [{ path: '/x/tree', name: 'tree', type: 'directory' as const }],
    fingerprint: 'f'.repeat(64),
    archive: { key: 'k', tarSize: 1024, size: 1100, sha256: 'ab'.repeat(32), storageClass: 'DEEP_ARCHIVE' as const },
    encryption: { mode: 'passphrase' as const, recipients: [] },
  };

  async function packed(): Promise<NewManifest> {
    const root = makeTree();
    const { entries } = await walk([root], { exclude: [] });
    const tar = packTar(entries);
    for await (const _ of tar.stream) {
      // discard the tar: only the records matter here
    }
    const report = await tar.report;
    return { ...header, fileCount: report.entries.fileCount, fileBytes: report.entries.fileBytes, entries: report.entries, skipped: [], changed: [] };
  }

  it('records what the tar holds, with the manifest entry shape of earlier versions', async () => {
    const m = await packed();
    const all = [...m.entries];
    assert.equal(all.length, m.entries.length);
    const files = all.filter((e) => e.type === 'file');
    assert.equal(m.fileCount, files.length);
    assert.equal(m.fileBytes, files.reduce((n, e) => n + e.size, 0));
    const file = files.find((e) => e.size === 3)!;
    assert.deepEqual(Object.keys(file), ['path', 'type', 'size', 'mtime', 'mode', 'sha256']);
    assert.equal(file.sha256, createHash('sha256').update('xxx').digest('hex'));
    const link = all.find((e) => e.type === 'symlink')!;
    assert.deepEqual(link, { path: 'tree/link', type: 'symlink', size: 0, mtime: link.mtime, mode: link.mode, linkTarget: 'a0' });
    assert.deepEqual(Object.keys(all[0]!), ['path', 'type', 'size', 'mtime', 'mode']);
  });

  it('serializes to exactly the bytes of JSON.stringify, in bounded pieces', async () => {
    const m = await packed();
    const asArray = { ...m, entries: [...m.entries] };
    const pieces = [...manifestJson(m, 4096)];
    assert.ok(pieces.length > 10, `${pieces.length} pieces`);
    assert.ok(pieces.every((p) => p.length < 4096 + 1024), 'no piece is much larger than asked');
    assert.equal(pieces.join(''), JSON.stringify(asArray));
    assert.equal([...manifestJson(asArray)].join(''), JSON.stringify(asArray));
    assert.equal([...manifestJson({ ...asArray, entries: [] })].join(''), JSON.stringify({ ...asArray, entries: [] }));
  });

  it('encrypts into a message the reader parses back to the same manifest', async () => {
    const m = await packed();
    const enc = { mode: 'passphrase' as const, passphrase: 'pw' };
    const out: Buffer[] = [];
    for await (const piece of encryptPieces(manifestJson(m, 4096), enc)) out.push(piece);
    assert.ok(out.length > 10, 'the message comes out in pieces, as it is made');
    const cipher = Buffer.concat(out);
    const plain = await decryptBytes(cipher, { passphrase: 'pw' }, 'the manifest');
    const parsed = parseManifest(plain, id);
    assert.deepEqual(parsed, JSON.parse(JSON.stringify({ ...m, entries: [...m.entries] })));
  });

  it('encrypts a message given in pieces exactly as in one piece', async () => {
    const params = await newSeipdParams({ mode: 'passphrase', passphrase: 'pw' });
    const MiB = 1 << 20;
    for (const size of [0, 1, 191, 8383, 8384, MiB - 1, MiB, MiB + 1, 3 * MiB + 5]) {
      const plain = Buffer.alloc(size, size & 0xff);
      const whole = encryptSeipdSync(plain, params);
      const pieces = [plain.subarray(0, size >> 2), Buffer.alloc(0), plain.subarray(size >> 2, size >> 1), plain.subarray(size >> 1)];
      const made = Buffer.concat([...encryptSeipdPieces(pieces, params)]);
      assert.ok(made.equals(whole), `bytes for ${size}`);
    }
  });
});
