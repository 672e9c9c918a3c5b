/** A small, valid version 1 manifest, for tests of what is written and read around manifests. */
import { manifestFormat, type Manifest } from '../../src/core/catalog/manifest';

export function sampleManifest(id: string): Manifest {
  return {
    format: manifestFormat,
    version: 1,
    id,
    created: '2026-01-02T03:04:05.000Z',
    label: 'docs',
    host: 'laptop',
    sources: [{ path: '/home/me/docs', name: 'docs', type: 'directory' }],
    fingerprint: 'a'.repeat(64),
    archive: { key: `archives/${id}.tar.gpg`, tarSize: 10240, size: 900, sha256: 'b'.repeat(64), storageClass: 'DEEP_ARCHIVE' },
    encryption: { mode: 'passphrase', recipients: [] },
    compression: 'zip-adaptive',
    fileCount: 1,
    fileBytes: 5,
    entries: [{ path: 'docs/a.txt', type: 'file', size: 5, mtime: 0, mode: 0o644, sha256: 'c'.repeat(64) }],
    skipped: [{ path: 'docs/x', reason: 'unreadable' }],
    changed: ['docs/b.txt'],
  };
}
