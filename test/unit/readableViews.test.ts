import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Manifest } from '../../src/core/catalog/manifest';
import { manifestText, modeString } from '../../src/vscode/manifestText';
import { localDate, plural, relativeTime, timeSpan } from '../../src/vscode/when';

// Local times, so the machine's zone does not matter.
const now = new Date(2026, 10, 23, 14, 30);

describe('times and counts as a person reads them', () => {
  it('says how long ago, in the local calendar', () => {
    assert.equal(relativeTime(new Date(2026, 10, 23, 14, 29, 40), now), 'just now');
    assert.equal(relativeTime(new Date(2026, 10, 23, 14, 5), now), '25 min ago');
    assert.equal(relativeTime(new Date(2026, 10, 23, 11, 10), now), '3 h ago');
    assert.equal(relativeTime(new Date(2026, 10, 23, 0, 10), now), '14 h ago', 'earlier today');
    assert.equal(relativeTime(new Date(2026, 10, 22, 23, 0), now), 'yesterday');
    assert.equal(relativeTime(new Date(2026, 10, 19, 9, 0), now), '4 days ago');
    assert.equal(relativeTime(new Date(2026, 10, 2, 9, 0), now), '2 Nov');
    assert.equal(relativeTime(new Date(2025, 11, 31, 9, 0), now), '31 Dec 2025');
    assert.equal(relativeTime(new Date(2026, 10, 24), now), 'just now', 'a clock a little ahead');
    assert.equal(relativeTime(new Date(Number.NaN), now), 'an unknown date');
  });

  it('gives the absolute local date, spans ahead and plurals', () => {
    assert.equal(localDate(new Date(2026, 0, 5, 7, 3)), '2026-01-05 07:03');
    assert.equal(timeSpan(10_000), '1 min');
    assert.equal(timeSpan(40 * 60_000), '40 min');
    assert.equal(timeSpan(10.2 * 3_600_000), '11 h');
    assert.equal(timeSpan(6.5 * 24 * 3_600_000), '6 days');
    assert.equal(plural(1, 'file'), '1 file');
    assert.equal(plural(1234, 'file'), '1,234 files');
    assert.equal(plural(2, 'entry', 'entries'), '2 entries');
  });
});

describe('Show Manifest as a listing', () => {
  it('shows modes as ls does', () => {
    assert.equal(modeString('file', 0o644), '-rw-r--r--');
    assert.equal(modeString('directory', 0o755), 'drwxr-xr-x');
    assert.equal(modeString('symlink', 0o777), 'lrwxrwxrwx');
    assert.equal(modeString('file', 0o4755), '-rwsr-xr-x');
    assert.equal(modeString('directory', 0o1777), 'drwxrwxrwt');
    assert.equal(modeString('file', 0o2640), '-rw-r-S---');
  });

  it('has a header in words and one aligned line per entry, with sizes and local dates', () => {
    const mtime = new Date(2026, 10, 20, 9, 15).getTime();
    const m = {
      id: '20261123T100000Z-00000000000000ab',
      created: new Date(2026, 10, 23, 11, 0).toISOString(),
      label: 'src',
      host: 'laptop',
      sources: [{ path: '/home/a/src', name: 'src', type: 'directory' }],
      archive: { key: 'k', tarSize: 0, size: 100_663_296, sha256: '', storageClass: 'DEEP_ARCHIVE' },
      encryption: { mode: 'passphrase', recipients: [] },
      fileCount: 2,
      fileBytes: 100_663_306,
      entries: [
        { path: 'src', type: 'directory', size: 0, mtime, mode: 0o755 },
        { path: 'src/data.bin', type: 'file', size: 100_663_296, mtime, mode: 0o600 },
        { path: 'src/README.md', type: 'file', size: 10, mtime, mode: 0o644 },
        { path: 'src/link', type: 'symlink', size: 0, mtime, mode: 0o777, linkTarget: 'README.md' },
      ],
      skipped: [],
      changed: [],
    } as unknown as Manifest;
    const lines = manifestText(m, now).split('\n');
    assert.equal(lines[0], 'src');
    assert.equal(lines[1], 'Backed up 2026-11-23 11:00 (3 h ago) on laptop');
    assert.equal(lines[3], 'Contents: 2 files, 96.0 MiB; stored as 96.0 MiB in Deep Archive');
    assert.equal(lines[5], 'Archive id: 20261123T100000Z-00000000000000ab');
    assert.deepEqual(lines.slice(7, 12), [
      'Mode            Size  Modified          Path',
      'drwxr-xr-x            2026-11-20 09:15  src/',
      '-rw-------  96.0 MiB  2026-11-20 09:15  src/data.bin',
      '-rw-r--r--      10 B  2026-11-20 09:15  src/README.md',
      'lrwxrwxrwx            2026-11-20 09:15  src/link -> README.md',
    ]);
    assert.match(manifestText(m, now, 2), /… and 2 more entries \(use "Glacier Backup: Restore…" to search them all\)\n$/);
  });
});
