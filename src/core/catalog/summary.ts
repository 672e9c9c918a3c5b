/**
 * Catalog summaries (docs/format.md, "Objects"): `catalog/<id>.summary.gpg`, a snapshot's manifest
 * without its file lists (`entries`, `skipped`, `changed`, `renames`), a few hundred bytes, in
 * STANDARD and encrypted exactly like the manifest. Listing reads these instead of manifests, which
 * for a workspace of thousands of files are megabytes each.
 *
 * A summary is an addition: it is written just before the manifest and is never needed. A snapshot
 * without one (older archives, a summary that failed to upload or to read) is listed from its
 * manifest. So a failed write is a note, not a failed backup, and a summary read back is untrusted
 * like a manifest: bounded before it is decrypted and while it is, and every field checked.
 */
import type { Compression } from '../crypto/compress';
import { decryptStream, encryptPieces, streamDecryptError, type Decryption, type Encryption } from '../crypto/openpgp';
import { describeError, GlacierError } from '../errors';
import { PutRetry, type ArchiveStore } from '../store/archiveStore';
import { keys } from '../model/keys';
import { catalogSalt, readManifest, type ArchiveListing } from './catalog';
import { manifestVersion, type Manifest, type NewManifest } from './manifest';
import { headerProblem, isObject } from './manifestCheck';
import { manifestVersion2, v2HeaderProblem } from './manifestV2';

export const summaryFormat = 'glacier-backup/summary';
/** A summary is a few hundred bytes; one over this (a selection of thousands of roots) is not written, and refused when read. */
export const maxSummaryPlaintext = 1 << 20;
/** Compressed or not, the ciphertext of an accepted plaintext stays under this. */
export const maxSummaryCiphertext = maxSummaryPlaintext + (64 << 10);

/** The fields of a manifest that a summary leaves out: the lists whose length grows with the files. */
const fileLists = new Set(['entries', 'skipped', 'changed', 'renames']);

/** A manifest's header, as its summary holds it: every field but the file lists, under its own `format`. */
export type CatalogSummary = Omit<Manifest, 'format' | 'version' | 'entries' | 'skipped' | 'changed'> & {
  format: typeof summaryFormat;
  /** The manifest's format version (1, or 2 once incremental manifests are written). */
  version: number;
};

/** The summary of a manifest: its fields in their order, without the file lists (any version: new fields are kept). */
export function summaryOf(m: NewManifest | Manifest): CatalogSummary {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(m)) {
    if (fileLists.has(key) || value === undefined) continue;
    out[key] = key === 'format' ? summaryFormat : value;
  }
  return out as CatalogSummary;
}

/**
 * Writes the summary of `manifest` (before the manifest itself: a summary whose manifest never
 * came is a leftover that `check` reports and repairs). Never throws: a summary is optional, and a
 * failure is reported through `onNotice` (listing then reads the manifest).
 */
export async function writeSummary(
  store: ArchiveStore,
  manifest: NewManifest | Manifest,
  enc: Encryption,
  options: { compression?: Compression; onNotice?: (message: string) => void } = {},
): Promise<void> {
  const json = JSON.stringify(summaryOf(manifest));
  if (Buffer.byteLength(json) > maxSummaryPlaintext) return; // listed from its manifest
  const put = (): Promise<unknown> =>
    store.put({
      key: keys.summary(manifest.id),
      body: encryptPieces([json], enc, options.compression, catalogSalt(store)),
      tier: 'catalog',
      sizeBound: maxSummaryCiphertext,
      concurrency: 1,
      contentType: 'application/pgp-encrypted',
      what: 'summary',
      action: `write the summary of ${manifest.id}`,
    });
  try {
    await put().catch((err: unknown) => {
      // An S3-compatible store that refuses checksum headers no longer gets them: once more.
      if (err instanceof PutRetry && err.reason === 'store-adjusted') return put();
      throw err;
    });
  } catch (err) {
    options.onNotice?.(`the catalog summary of ${manifest.id} was not written (${describeError(err)}); listing reads its manifest instead`);
  }
}

/**
 * Reads, decrypts and checks the summary of `id`. `etag`, when given, pins the version the caller
 * listed. Errors: 'not-found' when there is none, 'corrupt' when it is too large or malformed.
 */
export async function readSummary(store: ArchiveStore, id: string, dec: Decryption, options: { etag?: string; signal?: AbortSignal } = {}): Promise<CatalogSummary> {
  const what = `the summary of ${id}`;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const opened = await store.open(keys.summary(id), { signal: stop.signal, what, action: `read ${what}`, ...(options.etag ? { etag: options.etag } : {}) });
    if (opened.size > maxSummaryCiphertext) throw tooLarge(id);
    const cipher = await bounded(opened.body, maxSummaryCiphertext, id);
    let plain: Buffer;
    try {
      plain = await bounded(await decryptStream(once(cipher), dec, what, options.signal, { whole: true }), maxSummaryPlaintext, id);
    } catch (err) {
      throw streamDecryptError(err, what);
    }
    return parseSummary(plain, id);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    stop.abort(); // whatever is left of the download is dropped, not read
  }
}

/** Parses and checks an untrusted summary's plaintext: the manifest header's checks, and version 2's when it says 2. */
export function parseSummary(plain: Uint8Array, id: string): CatalogSummary {
  const bad = (why: string): GlacierError => new GlacierError('corrupt', `summary of ${id} is invalid: ${why}`);
  let m: unknown;
  try {
    m = JSON.parse(Buffer.from(plain).toString('utf8'));
  } catch {
    throw bad('not valid JSON');
  }
  if (!isObject(m) || m.format !== summaryFormat) throw bad('not a glacier-backup summary');
  if (m.version !== manifestVersion && m.version !== manifestVersion2) throw bad(`format version ${String(m.version)} is not supported by this version`);
  for (const key of fileLists) if (key in m) throw bad(`it holds "${key}"`);
  const problem = headerProblem(m, id) ?? (m.version === manifestVersion2 ? v2HeaderProblem(m) : undefined);
  if (problem) throw bad(problem);
  return m as CatalogSummary;
}

/** The bytes of `source`, refused as soon as they pass `max`. */
async function bounded(source: AsyncIterable<Uint8Array>, max: number, id: string): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  let seen = 0;
  for await (const part of source) {
    seen += part.byteLength;
    if (seen > max) throw tooLarge(id);
    parts.push(part);
  }
  return Buffer.concat(parts);
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function tooLarge(id: string): GlacierError {
  return new GlacierError('corrupt', `summary of ${id} is refused: it is larger than ${maxSummaryCiphertext} bytes (the limit of this version)`);
}

/**
 * What listing and retention read of a listed snapshot: its summary when it has one, else (or when
 * the summary cannot be read) its manifest. Says which object was read, and its ETag, for caches.
 */
export async function readHeader(
  store: ArchiveStore,
  item: ArchiveListing,
  dec: Decryption,
  signal?: AbortSignal,
): Promise<{ header: CatalogSummary | Manifest; key: string; etag?: string }> {
  if (item.summary) {
    try {
      const header = await readSummary(store, item.id, dec, { etag: item.summary.etag, signal });
      return { header, key: keys.summary(item.id), ...(item.summary.etag ? { etag: item.summary.etag } : {}) };
    } catch (err) {
      if (signal?.aborted) throw err; // otherwise the manifest says what the summary could not
    }
  }
  const header = await readManifest(store, item.id, dec, signal);
  return { header, key: keys.manifest(item.id), ...(item.manifest?.etag ? { etag: item.manifest.etag } : {}) };
}
