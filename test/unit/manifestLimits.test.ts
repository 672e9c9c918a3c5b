/**
 * Manifests are untrusted input: the reader parses them as they stream in, within the limits of
 * docs/format.md ("Limits a reader enforces"), and checks every field the rest of the code uses.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest, parseManifestStream } from '../../src/core/catalog/manifest';
import { manifestLimits } from '../../src/core/catalog/manifestCheck';

const id = '20260102T030405Z-0123456789abcdef';
const hex = (c: string): string => c.repeat(64);
const file = { path: 'a', type: 'file', size: 3, mtime: 0, mode: 420, sha256: hex('c') };
const valid = {
  format: 'glacier-backup/manifest',
  version: 1,
  id,
  created: '2026-01-02T03:04:05.000Z',
  label: 'x',
  host: 'h',
  sources: [{ path: '/home/u/x', name: 'x', type: 'directory' }],
  fingerprint: hex('f'),
  archive: { key: 'k', tarSize: 1024, size: 1100, sha256: hex('a'), storageClass: 'DEEP_ARCHIVE' },
  encryption: { mode: 'passphrase', recipients: [] },
  fileCount: 1,
  fileBytes: 3,
  entries: [file],
  skipped: [],
  changed: [],
};
const bytes = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** `head`, then `count` copies of `piece` (joined by `sep`), then `tail`, in chunks of about 1 MiB. */
async function* repeated(head: string, piece: string, count: number, tail: string, sep = ''): AsyncGenerator<Buffer> {
  yield Buffer.from(head);
  const per = Math.max(1, Math.floor((1 << 20) / (piece.length + sep.length)));
  const block = Buffer.from(Array.from({ length: per }, () => piece).join(sep) + sep);
  let left = count;
  while (left > per) {
    yield block;
    left -= per;
  }
  yield Buffer.from(Array.from({ length: left }, () => piece).join(sep));
  yield Buffer.from(tail);
}

/** The JSON of `valid` split around its entries array: [before the array's contents, after them]. */
function around(m: Record<string, unknown>): [string, string] {
  const text = JSON.stringify({ ...m, entries: ['@@'] });
  const at = text.indexOf('"@@"');
  return [text.slice(0, at), text.slice(at + 4)];
}

describe('manifest limits', () => {
  it('parses a manifest fed in pieces of any size exactly as in one piece', async () => {
    const whole = bytes({ ...valid, entries: [file, { ...file, path: 'b "quoted" {x}' }, { path: 'd', type: 'directory', size: 0, mtime: -1000, mode: 493 }] });
    const expected = parseManifest(whole, id);
    for (const size of [1, 2, 7, 64]) {
      const pieces = (async function* () {
        for (let i = 0; i < whole.length; i += size) yield whole.subarray(i, i + size);
      })();
      assert.deepEqual(await parseManifestStream(pieces, id), expected);
    }
    assert.equal(expected.entries[1]!.path, 'b "quoted" {x}');
  });

  it('refuses more entries than the limit, as soon as the one too many begins', async () => {
    const [head, tail] = around(valid);
    const entry = '{"path":"a","type":"directory","size":0,"mtime":0,"mode":493}';
    const started = Date.now();
    await assert.rejects(parseManifestStream(repeated(head, entry, manifestLimits.maxEntries + 1, tail, ','), id), /manifest of .* is refused: it lists more than 2000000 entries/);
    assert.ok(Date.now() - started < 30_000);
  });

  it('refuses plaintext past the limit without keeping it (whitespace inside the entries array)', async () => {
    const [head, tail] = around(valid);
    const before = process.memoryUsage().rss;
    await assert.rejects(parseManifestStream(repeated(head, ' '.repeat(1024), manifestLimits.maxBytes / 1024 + 1, tail), id), /is refused: its plaintext is larger than 268435456 bytes/);
    assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, 'nothing of the whitespace was kept');
  });

  it('refuses header fields past their limit (a label of 100 MB)', async () => {
    const text = JSON.stringify({ ...valid, label: '@@' });
    const at = text.indexOf('@@');
    await assert.rejects(parseManifestStream(repeated(text.slice(0, at), 'A'.repeat(1024), 100 * 1024, text.slice(at + 2)), id), /fields other than the entries are larger than 67108864 bytes/);
  });

  it('refuses one entry larger than 64 KiB, and nesting deeper than 16', () => {
    assert.throws(() => parseManifest(bytes({ ...valid, entries: [{ ...file, path: 'p'.repeat(70_000) }] }), id), /an entry is larger than 65536 bytes/);
    const deep = `${'['.repeat(20)}${']'.repeat(20)}`;
    assert.throws(() => parseManifest(Buffer.from(JSON.stringify(valid).replace('"changed":[]', `"changed":${deep}`)), id), /nests deeper than 16 levels/);
  });

  it('refuses entries that are not objects, trailing commas, two "entries" arrays and truncation', () => {
    const text = JSON.stringify(valid);
    for (const [bad, why] of [
      [text.replace(/"entries":\[.*?\]/, '"entries":[1]'), /an entry is malformed/],
      [text.replace(/"entries":\[.*?\]/, '"entries":["a"]'), /an entry is malformed/],
      [text.replace(/"entries":\[(.*?)\]/, '"entries":[$1,]'), /an entry is malformed/],
      [text.replace(/"entries":\[(.*?)\]/, '"entries":[$1,,$1]'), /an entry is malformed/],
      [text.replace('"skipped":[]', `"entries":[${JSON.stringify(file)}]`), /"entries" appears twice/],
      [text.replace('"entries"', '"entr\\u0069es"'), /"entries" is malformed/],
      [text.slice(0, -20), /not valid JSON/],
      [`${text}}`, /not valid JSON/],
    ] as const) {
      assert.throws(() => parseManifest(Buffer.from(bad), id), why, bad.slice(0, 200));
    }
  });
});

describe('manifest fields', () => {
  const refuses = (m: unknown, why: RegExp): void => assert.throws(() => parseManifest(bytes(m), id), why);

  it('refuses a "created" that is not an ISO 8601 date (it names the restored folder)', () => {
    for (const created of ['/../../bin', '2026-01-02', '2026-13-45T99:00:00Z', '', 7]) refuses({ ...valid, created }, /"created" is not an ISO 8601 date/);
  });

  it('refuses modification times a Date cannot hold, and modes out of range', () => {
    for (const mtime of [1e300, -1e300, 8.64e15 + 1, Number.NaN]) refuses({ ...valid, entries: [{ ...file, mtime }] }, mtime === mtime ? /modification time out of range/ : /not valid JSON|modification time/);
    for (const mode of [-1, 0o200000, 1.5]) refuses({ ...valid, entries: [{ ...file, mode }] }, /mode out of range/);
  });

  it('refuses hashes that are not lowercase sha256 hex', () => {
    refuses({ ...valid, entries: [{ ...file, sha256: 'ab' }] }, /no valid sha256/);
    refuses({ ...valid, entries: [{ ...file, sha256: hex('G') }] }, /no valid sha256/);
    refuses({ ...valid, archive: { ...valid.archive, sha256: '../x' } }, /"archive" is incomplete/);
    refuses({ ...valid, fingerprint: 'f' }, /"fingerprint" is not a sha256/);
  });

  it('refuses unbounded or missing strings: label, host, paths, link targets', () => {
    refuses({ ...valid, label: 'l'.repeat(5000) }, /"label" is missing or too long/);
    refuses({ ...valid, host: 'h'.repeat(2000) }, /"host" is missing or too long/);
    refuses({ ...valid, entries: [{ ...file, path: '' }] }, /no path, or one too long/);
    refuses({ ...valid, entries: [{ path: 'l', type: 'symlink', size: 0, mtime: 0, mode: 511, linkTarget: 7 }] }, /symlink target is malformed/);
    refuses({ ...valid, skipped: [{ path: 7, reason: 'x' }] }, /"skipped" is malformed/);
    refuses({ ...valid, changed: [''] }, /"changed" is malformed/);
  });

  it('refuses malformed sources and recipients', () => {
    refuses({ ...valid, sources: [{ path: '/x' }] }, /a source is malformed/);
    refuses({ ...valid, sources: 'x' }, /"sources" is missing/);
    refuses({ ...valid, encryption: { mode: 'public-key', recipients: ['not a fingerprint'] } }, /recipient is not a key fingerprint/);
    assert.equal(parseManifest(bytes({ ...valid, encryption: { mode: 'public-key', recipients: ['A'.repeat(40)] } }), id).encryption.recipients.length, 1);
  });

  it('reads version 2: its chain is checked, a chunked entry may pass 64 KiB, any other may not', () => {
    const prev = '20260101T030405Z-0123456789abcdef';
    const chain = { full: prev, previous: prev, level: 1, archives: [prev, id], renamed: [] };
    const v2 = { ...valid, version: 2, chain, needs: [prev, id], added: 0, changedFiles: 1, removed: 0, uploadedBytes: 3 };
    const chunks = Array.from({ length: 1000 }, () => [hex('d'), 1, prev]);
    const big = { ...file, size: 1000, in: prev, chunks };
    const m = parseManifest(bytes({ ...v2, entries: [file, big] }), id);
    assert.equal(m.version, 2);
    assert.deepEqual(m.needs, [prev, id]);
    assert.equal(m.entries[1]!.chunks!.length, 1000);
    refuses({ ...v2, entries: [{ ...big, chunks: chunks.slice(1) }] }, /chunks do not add up/);
    refuses({ ...v2, entries: [{ ...file, in: '20251231T030405Z-0123456789abcdef' }] }, /"in" is not an archive the snapshot needs/);
    refuses({ ...v2, needs: [id, prev] }, /"needs" is not a list of ids, oldest first/);
    refuses({ ...v2, entries: [{ ...file, linkTarget: 'l'.repeat(10_000), path: 'p'.repeat(60_000) }] }, /an entry is larger than 65536 bytes/);
    refuses({ ...valid, entries: [{ ...file, in: prev }] }, /version 1 names another archive/);
  });

  it('reports the format version before the shape of the entries', () => {
    refuses({ ...valid, version: 3, entries: [{ other: 'shape' }] }, /format version 3 is not supported/);
  });
});
