/**
 * Manifest format v1 (docs/format.md): what an archive holds, readable without a Glacier restore.
 * Manifests read back from the bucket are untrusted: parseManifest checks every field's shape.
 */
import { createHash } from 'node:crypto';
import { archiveIdPattern, isStorageClass, type StorageClass } from '../config';
import { GlacierError } from '../errors';
import type { ManifestEntry } from '../pack/tarWriter';
import type { EntryType, SourceEntry, SourceRoot } from '../pack/walk';

export const manifestFormat = 'glacier-backup/manifest';
export const manifestVersion = 1;

export interface Manifest {
  format: typeof manifestFormat;
  version: 1;
  id: string;
  /** ISO 8601, UTC. */
  created: string;
  label: string;
  host: string;
  sources: SourceRoot[];
  /** sha256 over the walked metadata (paths, types, sizes, mtimes, modes, link targets). */
  fingerprint: string;
  archive: {
    key: string;
    tarSize: number;
    size: number;
    sha256: string;
    storageClass: StorageClass;
  };
  encryption: { mode: 'passphrase' | 'public-key'; recipients: string[] };
  fileCount: number;
  fileBytes: number;
  entries: ManifestEntry[];
  skipped: { path: string; reason: string }[];
  changed: string[];
}

/** A manifest as a backup writes it: the entries as the tar writer recorded them (ManifestEntryList). */
export interface NewManifest extends Omit<Manifest, 'entries'> {
  entries: Iterable<ManifestEntry> & { readonly length: number };
}

/**
 * The manifest's JSON, the very bytes JSON.stringify(m) would give (keys in the object's order),
 * as pieces of about `pieceChars` characters, so that a manifest of many files is never one
 * string. Iterates the entries once per call.
 */
export function* manifestJson(m: NewManifest | Manifest, pieceChars = 1 << 16): Generator<string> {
  let piece = '{';
  let first = true;
  for (const [key, value] of Object.entries(m)) {
    if (value === undefined || typeof value === 'function') continue;
    piece += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (key !== 'entries') {
      piece += JSON.stringify(value);
      continue;
    }
    piece += '[';
    let firstEntry = true;
    for (const e of value as Iterable<ManifestEntry>) {
      piece += `${firstEntry ? '' : ','}${JSON.stringify(e)}`;
      firstEntry = false;
      if (piece.length >= pieceChars) {
        yield piece;
        piece = '';
      }
    }
    piece += ']';
  }
  yield `${piece}}`;
}

/** Identifies "the same sources": this host and the same set of selected absolute paths. */
export function sourcesKey(host: string, roots: readonly { path: string }[]): string {
  return JSON.stringify([host, roots.map((r) => r.path).sort()]);
}

export function contentFingerprint(roots: readonly SourceRoot[], entries: Iterable<SourceEntry>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(roots.map((r) => [r.path, r.name, r.type])));
  // Hashed in batches of about 64 KiB: the same bytes as one update per entry, in fewer calls.
  let batch = '';
  for (const e of entries) {
    batch += `\n${JSON.stringify([e.path, e.type, e.size, e.mtimeMs, e.mode, e.linkTarget ?? null])}`;
    if (batch.length >= 1 << 16) {
      h.update(batch);
      batch = '';
    }
  }
  h.update(batch);
  return h.digest('hex');
}

const entryTypes = new Set<EntryType>(['file', 'directory', 'symlink']);

/** Parses and validates an untrusted manifest; any deviation is reported as corrupt. */
export function parseManifest(bytes: Uint8Array, expectedId: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new GlacierError('corrupt', `manifest of ${expectedId} is not valid JSON`);
  }
  const bad = (what: string): GlacierError => new GlacierError('corrupt', `manifest of ${expectedId} is invalid: ${what}`);
  const m = raw as Record<string, unknown>;
  if (!isObject(m) || m.format !== manifestFormat) throw bad('not a glacier-backup manifest');
  if (m.version !== manifestVersion) throw bad(`format version ${String(m.version)} is not supported by this version`);
  if (m.id !== expectedId || typeof m.id !== 'string' || !archiveIdPattern.test(m.id)) throw bad('its id does not match its key');
  for (const k of ['created', 'label', 'host', 'fingerprint'] as const) if (typeof m[k] !== 'string') throw bad(`"${k}" is missing`);
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/.test(m.created as string)) throw bad('"created" is not a UTC time');
  if (!Array.isArray(m.sources)) throw bad('"sources" is missing');
  const a = m.archive as Record<string, unknown>;
  if (!isObject(a) || typeof a.key !== 'string' || !isSize(a.tarSize) || !isSize(a.size) || typeof a.sha256 !== 'string') {
    throw bad('"archive" is incomplete');
  }
  if (typeof a.storageClass !== 'string' || !isStorageClass(a.storageClass)) throw bad('unknown storage class');
  const enc = m.encryption as Record<string, unknown>;
  if (!isObject(enc) || (enc.mode !== 'passphrase' && enc.mode !== 'public-key') || !Array.isArray(enc.recipients)) {
    throw bad('"encryption" is incomplete');
  }
  if (!isSize(m.fileCount) || !isSize(m.fileBytes) || !Array.isArray(m.entries)) throw bad('"entries" is missing');
  for (const e of m.entries as unknown[]) {
    const x = e as Record<string, unknown>;
    if (!isObject(x) || typeof x.path !== 'string' || !entryTypes.has(x.type as EntryType) || !isSize(x.size) || typeof x.mtime !== 'number' || typeof x.mode !== 'number') {
      throw bad('an entry is malformed');
    }
    if (x.type === 'file' && typeof x.sha256 !== 'string') throw bad(`file ${x.path} has no sha256`);
  }
  if (!Array.isArray(m.skipped)) m.skipped = [];
  if (!Array.isArray(m.changed)) m.changed = [];
  return m as unknown as Manifest;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
