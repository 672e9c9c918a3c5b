import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  archiveKind,
  archiveLook,
  duration,
  earlyDeletionFee,
  entryLook,
  groupBySource,
  indexEntries,
  jobLook,
  matchesFilter,
  monthlyCost,
  progressText,
  retrievalCost,
  searchFiles,
  stateShort,
  stateText,
  type ArchiveInfo,
} from '../../src/vscode/viewModel';
import type { ManifestEntry } from '../../src/core/model/entry';
import { entryName, fromBytes, pathFields } from '../../src/core/model/rawNames';

const now = new Date('2026-11-23T12:00:00Z');
const GiB = 1024 ** 3;

function archive(id: string, extra: Partial<ArchiveInfo> = {}): ArchiveInfo {
  return {
    id,
    size: GiB,
    storageClass: 'DEEP_ARCHIVE',
    lastModified: new Date('2026-11-13T12:00:00Z'),
    state: { state: 'archived' },
    summary: { label: 'thesis', created: '2026-11-13T12:00:00Z', host: 'laptop', sources: ['/home/a/thesis'], fileCount: 3, fileBytes: 900 },
    ...extra,
  };
}

describe('Archives view model', () => {
  it('maps each state to its coloured icon, context value and a description that starts with the state', () => {
    const cases: [Partial<ArchiveInfo>, string, string, string, RegExp][] = [
      [{ state: { state: 'archived' } }, 'archive', 'charts.blue', 'archive.archived', /^archived · 13 Nov · 1\.0 GiB$/],
      [{ state: { state: 'restoring' }, restore: { requestedAt: '2026-11-23T10:00:00Z', tier: 'Bulk' } }, 'sync~spin', 'charts.yellow', 'archive.restoring', /^restoring, ~46 h left · 13 Nov · 1\.0 GiB$/],
      [{ state: { state: 'restored', expiry: new Date('2026-11-30T00:00:00Z') } }, 'cloud-download', 'charts.green', 'archive.restored', /^restored, 6 days left · /],
      [{ state: { state: 'restored', expiry: new Date('2026-11-23T20:00:00Z') } }, 'cloud-download', 'charts.green', 'archive.restored', /^restored, expires in 8 h · /],
      [{ state: { state: 'available' }, storageClass: 'STANDARD' }, 'pass', 'charts.green', 'archive.available', /^available · 13 Nov · 1\.0 GiB$/],
      [{ problem: 'archive without manifest' }, 'warning', 'problemsWarningIcon.foreground', 'archive.problem', /^archive without manifest/],
      [{ problem: 'manifest: cannot open the manifest of x: wrong passphrase or key', locked: true }, 'warning', 'problemsWarningIcon.foreground', 'archive.locked', /^locked, needs another passphrase or key · 13 Nov · 1\.0 GiB$/],
      [{ size: undefined, problem: undefined }, 'warning', 'problemsWarningIcon.foreground', 'archive.problem', /^archive missing/],
      [{ state: undefined }, 'circle-outline', 'disabledForeground', 'archive.unknown', /^state unknown/],
    ];
    for (const [extra, icon, color, contextValue, description] of cases) {
      const look = archiveLook(archive('20261113T120000Z-0123456789abcdef', extra), 'bkt', 'glacier-backup/archives/x.tar.gpg', now);
      assert.equal(look.icon, icon, JSON.stringify(extra));
      assert.equal(look.color, color, JSON.stringify(extra));
      assert.equal(look.contextValue, contextValue);
      assert.match(look.description, description);
    }
  });

  it('takes the state from the pending-restore list when it knows better, as the status bar counts it', () => {
    const requested = { requestedAt: '2026-11-23T02:00:00Z', tier: 'Standard' };
    // A check found the copy ready while the listing still said restoring: the tree says restored.
    const ready = archive('x', { state: { state: 'restoring' }, restore: { ...requested, state: 'ready', expiry: '2026-11-26T12:00:00Z' } });
    assert.equal(archiveKind(ready, now), 'restored');
    assert.match(archiveLook(ready, 'b', 'k', now).description, /^restored, 3 days left/);
    // Requested, but S3 does not show it yet: restoring, with the time left.
    const requestedOnly = archive('x', { state: { state: 'archived' }, restore: { ...requested, state: 'restoring' } });
    assert.equal(archiveKind(requestedOnly, now), 'restoring');
    assert.equal(stateShort(requestedOnly, now), 'restoring, ~2 h left');
    assert.equal(stateShort(archive('x', { state: { state: 'restoring' }, restore: { ...requested, requestedAt: '2026-11-22T02:00:00Z' } }), now), 'restoring, due now');
    // A ready copy whose expiry passed is archived again; what S3 says last wins over a stale list.
    assert.equal(archiveKind(archive('x', { state: { state: 'archived' }, restore: { ...requested, state: 'ready', expiry: '2026-11-23T11:00:00Z' } }), now), 'archived');
    assert.equal(archiveKind(archive('x', { state: { state: 'restored' }, restore: { ...requested, state: 'restoring' } }), now), 'restored');
  });

  it('filters by words of label, source, host, id or state, in any case', () => {
    const a = archive('20261113T120000Z-0123456789abcdef');
    assert.ok(matchesFilter(a, 'THESIS', now));
    assert.ok(matchesFilter(a, 'home/a laptop', now), 'every word, anywhere');
    assert.ok(matchesFilter(a, '0123456789ab', now), 'the id');
    assert.ok(matchesFilter(a, 'archived', now), 'the state');
    assert.ok(!matchesFilter(a, 'restored', now));
    assert.ok(!matchesFilter(a, 'thesis photos', now));
    assert.ok(matchesFilter(a, '  ', now), 'no words: everything');
  });

  it('labels an archive by its manifest, or by its id when the manifest is unreadable', () => {
    const id = '20261113T120000Z-0123456789abcdef';
    assert.equal(archiveLook(archive(id), 'b', 'k', now).label, 'thesis');
    assert.equal(archiveLook(archive(id, { summary: undefined }), 'b', 'k', now).label, id);
    assert.match(archiveLook(archive(id, { summary: undefined }), 'b', 'k', now).tooltip, /label and files show once the passphrase/);
  });

  it('puts id, S3 URI, monthly cost and the early-deletion fee in the tooltip', () => {
    const tip = archiveLook(archive('20261113T120000Z-0123456789abcdef'), 'my-bucket', 'glacier-backup/archives/20261113T120000Z-0123456789abcdef.tar.gpg', now).tooltip;
    assert.match(tip, /Id: `20261113T120000Z-0123456789abcdef`/);
    assert.match(tip, /State: archived \\\(request a restore to download it\\\)/, 'Markdown-escaped');
    assert.match(tip, /Backed up: \d{4}-\d\d-\d\d \d\d:\d\d \(13 Nov\)/);
    assert.match(tip, /Files: 3 files, 900 B/);
    assert.match(tip, /Stored: 1\.0 GiB in Deep Archive/);
    assert.match(tip, /s3:\/\/my-bucket\/glacier-backup\/archives\/20261113T120000Z-0123456789abcdef\.tar\.gpg/);
    assert.match(tip, /about < \$0\.01 per month/);
    // 10 of 180 days used: 170 days of $0.00099/GB-month remain.
    assert.match(tip, /early-deletion fee of about < \$0\.01/);
  });

  it('computes costs from list prices', () => {
    assert.equal(monthlyCost(1024 * GiB).toFixed(4), '1.0138'); // ~$1 per TB-month
    const fee = earlyDeletionFee(1024 * GiB, 'DEEP_ARCHIVE', new Date('2026-11-13T12:00:00Z'), now);
    assert.equal(fee.toFixed(2), ((1.01376 / 30) * 170).toFixed(2));
    assert.equal(earlyDeletionFee(GiB, 'DEEP_ARCHIVE', new Date('2025-01-01T00:00:00Z'), now), 0);
    assert.equal(earlyDeletionFee(GiB, 'STANDARD', new Date('2026-11-22T00:00:00Z'), now), 0);
    assert.equal(retrievalCost(100 * GiB, 'DEEP_ARCHIVE', 'Standard').toFixed(4), (2 + 0.0001).toFixed(4));
    assert.equal(retrievalCost(100 * GiB, 'DEEP_ARCHIVE', 'Bulk').toFixed(5), (0.25 + 0.000025).toFixed(5));
  });

  it('groups archives by host and sources, newest first, unreadable ones last', () => {
    const a1 = archive('20261101T000000Z-0000000000000001');
    const a2 = archive('20261120T000000Z-0000000000000002');
    const other = archive('20261110T000000Z-0000000000000003', { summary: { ...a1.summary!, label: 'photos', sources: ['/home/a/photos'] } });
    const locked = archive('20261121T000000Z-0000000000000004', { summary: undefined });
    const groups = groupBySource([a1, other, locked, a2]);
    assert.deepEqual(
      groups.map((g) => [g.label, g.archives.map((a) => a.id.slice(-1))]),
      [
        ['thesis', ['2', '1']],
        ['photos', ['3']],
        ['Archives without a readable manifest', ['4']],
      ],
    );
    assert.deepEqual(groups.map((g) => g.description), ['', '', ''], 'one host: not repeated on every group');
    const elsewhere = archive('20261122T000000Z-0000000000000005', { summary: { ...a1.summary!, host: 'desktop' } });
    assert.deepEqual(groupBySource([a1, elsewhere]).map((g) => g.description), ['desktop', 'laptop'], 'two hosts: each group names its own');
  });

  it('indexes manifest entries by folder, creating missing parents, folders first', () => {
    const e = (path: string, type: ManifestEntry['type'] = 'file', size = 1): ManifestEntry => ({ path, type, size, mtime: 0, mode: 0o644 });
    const index = indexEntries([e('proj', 'directory', 0), e('proj/z.txt'), e('proj/src/a.ts'), e('proj/src/deep/b.ts'), e('proj/a.md'), e('notes.txt')]);
    assert.deepEqual(index.children('').map((x) => x.path), ['proj', 'notes.txt']);
    assert.deepEqual(index.children('proj').map((x) => x.path), ['proj/src', 'proj/a.md', 'proj/z.txt']);
    assert.deepEqual(index.children('proj/src').map((x) => x.path), ['proj/src/deep', 'proj/src/a.ts']);
    assert.deepEqual(index.children('proj/src/deep').map((x) => x.path), ['proj/src/deep/b.ts']);
    assert.equal(index.children('proj/src').filter((x) => x.path === 'proj/src/deep').length, 1);
    assert.deepEqual(entryLook(e('proj/src', 'directory', 0)), { label: 'src', description: '', icon: 'folder', collapsible: true });
    assert.deepEqual(entryLook({ ...e('proj/l', 'symlink', 0), linkTarget: '../x' }), { label: 'l', description: '→ ../x', icon: 'file-symlink-file', collapsible: false });
  });

  it('keeps apart folders whose names read the same but whose bytes differ, showing them readably', () => {
    const raw = Buffer.from('caf\xe9', 'latin1');
    const latin = { ...pathFields(fromBytes(raw)), type: 'directory' as const, size: 0, mtime: 0, mode: 0o755 };
    const inside = { ...pathFields(fromBytes(Buffer.concat([raw, Buffer.from('/in-latin1')]))), type: 'file' as const, size: 1, mtime: 0, mode: 0o644 };
    const implicit = { ...pathFields(fromBytes(Buffer.concat([Buffer.from('p/'), raw, Buffer.from('/f')]))), type: 'file' as const, size: 1, mtime: 0, mode: 0o644 };
    const literal: ManifestEntry = { path: 'caf\\xE9/in-backslash', type: 'file', size: 1, mtime: 0, mode: 0o644 };
    const index = indexEntries([latin, inside, implicit, literal]);
    assert.deepEqual(index.children(entryName(latin)).map((x) => x.path), ['caf\\xE9/in-latin1']);
    assert.deepEqual(index.children('caf\\xE9').map((x) => x.path), ['caf\\xE9/in-backslash']);
    const made = index.children('p')[0]!;
    assert.deepEqual([made.path, made.type, entryLook(made).label], ['p/caf\\xE9', 'directory', 'caf\\xE9']);
    assert.deepEqual(index.children(entryName(made)).map((x) => x.path), ['p/caf\\xE9/f']);
  });

  it('indexes a 200,000-file manifest by folder', () => {
    const entries: ManifestEntry[] = [];
    for (let d = 0; d < 200; d++) for (let f = 0; f < 1000; f++) entries.push({ path: `root/d${d}/f${f}.txt`, type: 'file', size: 1, mtime: 0, mode: 0o644 });
    const index = indexEntries(entries);
    assert.equal(index.children('root').length, 200);
    assert.equal(index.children('root/d7').length, 1000);
  });

  it('shows job progress as percent, speed and time left', () => {
    const p = progressText(50 * 1024 * 1024, 200 * 1024 * 1024, 10_000);
    assert.equal(p.percent, 25);
    assert.equal(p.text, '25% · 5.0 MiB/s · 30s left');
    assert.equal(progressText(0, 0, 0).text, '0%');
    assert.equal(progressText(0, 100 * 1024 * 1024, 5000).text, '0%', 'no speed before bytes flow');
    assert.equal(progressText(1024, 100 * 1024 * 1024, 500).text, '0%', 'no speed from under a second of data');
    assert.equal(progressText(10, 100 * 1024 * 1024, 5000).text, '0%', 'no speed before 1% has moved');
    assert.equal(progressText(3072, 10_240, 2000).text, '30% · 1.5 KiB/s · 5s left');
    assert.equal(duration(3725), '1h 2m');
    assert.equal(duration(125), '2m 5s');
    assert.equal(jobLook({ key: 1, title: 'Back up a', state: 'running', percent: 42.7, detail: '42% · 1 MiB/s' }).description, '42% · 1 MiB/s');
    assert.equal(jobLook({ key: 1, title: 'Back up a', state: 'running', detail: 'checking…' }).description, 'checking…');
    assert.deepEqual(
      [jobLook({ key: 1, title: 'Back up a', state: 'running', percent: 42.7, detail: '42% · 1 MiB/s' }).contextValue, jobLook({ key: 2, title: 'b', state: 'failed', error: 'boom' }).description],
      ['job.running', 'failed: boom'],
    );
  });

  it('finds files by name across manifests for the Restore… picker', () => {
    const e = (path: string, type: ManifestEntry['type'] = 'file'): ManifestEntry => ({ path, type, size: 5, mtime: 0, mode: 0o644 });
    const manifests = [
      { id: 'a', label: 'thesis', entries: [e('thesis', 'directory'), e('thesis/Chapter1.tex'), e('thesis/refs.bib')] },
      { id: 'b', label: 'old thesis', entries: [e('thesis/chapter1.tex'), e('thesis/chapters', 'directory')] },
    ];
    assert.deepEqual(searchFiles(manifests, 'CHAPTER').map((h) => `${h.id}:${h.path}`), ['a:thesis/Chapter1.tex', 'b:thesis/chapter1.tex']);
    assert.deepEqual(searchFiles(manifests, 'c'), []);
    assert.equal(searchFiles(manifests, 'thesis', 2).length, 2);
  });

  it('treats an archive without size as missing', () => {
    assert.equal(archiveKind(archive('x', { size: undefined })), 'problem');
    assert.equal(stateText(archive('x', { state: { state: 'restored' } }), now), 'restored, ready to download');
  });
});
