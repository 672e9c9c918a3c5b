/**
 * Old versions and delete markers under the prefix, on a bucket with versioning (or Object Lock,
 * which implies it). The listing every command uses shows current objects only: a key deleted on
 * such a bucket is hidden behind a delete marker, and its old versions stay (and stay billed).
 *
 * The freshness marker's old versions (one per backup on such a bucket, a few hundred bytes each)
 * are left out: they are the marker's history, not the catalog's, and would only grow the count.
 *
 * Guarantees: read-only (ListObjectVersions). Undefined when the credentials may not list versions
 * or the endpoint does not implement it: what this adds is then simply not known.
 */
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { StoreConfig } from '../../config';
import { freshnessDir } from '../../model/keys';
import { isRefused } from './storedCheck';

export interface VersionsSummary {
  /** Keys whose current version is a delete marker with an older version behind it, and that marker's version id. */
  deleteMarkers: Map<string, string>;
  /** Versions that are not current (overwritten or deleted objects), and their bytes. */
  noncurrent: { count: number; bytes: number };
}

export async function versionsUnder(client: S3Client, store: StoreConfig, signal?: AbortSignal): Promise<VersionsSummary | undefined> {
  const summary: VersionsSummary = { deleteMarkers: new Map(), noncurrent: { count: 0, bytes: 0 } };
  const versioned = new Set<string>();
  const marker = `${store.prefix}${freshnessDir}`;
  const done = (): VersionsSummary => {
    for (const key of summary.deleteMarkers.keys()) if (!versioned.has(key)) summary.deleteMarkers.delete(key);
    return summary;
  };
  let keyMarker: string | undefined;
  let versionIdMarker: string | undefined;
  for (;;) {
    let page;
    try {
      page = await client.send(
        new ListObjectVersionsCommand({ Bucket: store.bucket, Prefix: store.prefix, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
        { abortSignal: signal },
      );
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (isRefused(err) || name === 'NotImplemented' || name === 'MethodNotAllowed') return undefined;
      throw err;
    }
    for (const m of page.DeleteMarkers ?? []) {
      if (m.IsLatest && m.Key && m.VersionId && !m.Key.startsWith(marker)) summary.deleteMarkers.set(m.Key, m.VersionId);
    }
    for (const v of page.Versions ?? []) {
      if (v.Key) versioned.add(v.Key);
      if (v.IsLatest || v.Key?.startsWith(marker)) continue;
      summary.noncurrent.count++;
      summary.noncurrent.bytes += v.Size ?? 0;
    }
    if (!page.IsTruncated) return done();
    keyMarker = page.NextKeyMarker;
    versionIdMarker = page.NextVersionIdMarker;
    if (!keyMarker && !versionIdMarker) return done();
  }
}
