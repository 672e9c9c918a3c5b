/**
 * The limits and field checks of a manifest read back from the bucket (docs/format.md, "Limits a
 * reader enforces"). Whatever passes here is what the rest of the code relies on: every string
 * is bounded, `created` is an ISO date, hashes are lowercase hex, modes and times are in range.
 */
import { archiveIdPattern, isStorageClass } from '../config';
import type { EntryType } from '../model/entry';
import type { ScanLimits } from './manifestScan';
import { rawNameProblem } from './rawNameCheck';

/**
 * A 200,000-file manifest is about 35-45 MB of JSON: these leave room for ten times that. One
 * entry's JSON may be as large as a chunked file's chunk list allows (format version 2: 500,000
 * chunks of about 110 bytes); any other entry is held to `maxPlainEntryBytes`.
 */
export const manifestLimits: ScanLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxEntries: 2_000_000,
  maxEntryBytes: 64 * 1024 * 1024,
  maxOtherBytes: 64 * 1024 * 1024,
  maxDepth: 16,
};
/** The most JSON bytes of an entry without `chunks`. */
export const maxPlainEntryBytes = 64 * 1024;
/** Encrypted manifests are not compressed by us: the ciphertext is the plaintext and a few KiB. */
export const maxManifestCiphertext = manifestLimits.maxBytes + 1024 * 1024;

export const maxPathChars = 16_384;
export const maxLabelChars = 4096;
export const maxHostChars = 1024;
const maxSources = 100_000;
const maxRecipients = 1000;
const maxReasonChars = 1024;
/** The range of a JS Date: times outside it cannot be shown or set. */
const maxTimeMs = 8.64e15;

const entryTypes = new Set<EntryType>(['file', 'directory', 'symlink']);
const sha256Hex = /^[0-9a-f]{64}$/;
const fingerprintHex = /^[0-9A-F]{40}$|^[0-9A-F]{64}$/;
const isoDate = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isSize(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

export function boundedString(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

export function isIsoDate(v: unknown): v is string {
  return typeof v === 'string' && isoDate.test(v) && !Number.isNaN(Date.parse(v));
}

/** Why an entry is unusable, or undefined if it is well-formed. */
export function entryProblem(e: unknown): string | undefined {
  if (!isObject(e)) return 'an entry is malformed';
  if (!boundedString(e.path, maxPathChars)) return 'an entry has no path, or one too long';
  if (!entryTypes.has(e.type as EntryType) || !isSize(e.size)) return 'an entry is malformed';
  if (typeof e.mtime !== 'number' || !Number.isFinite(e.mtime) || Math.abs(e.mtime) > maxTimeMs) return 'an entry has a modification time out of range';
  if (!Number.isInteger(e.mode) || (e.mode as number) < 0 || (e.mode as number) > 0o177777) return 'an entry has a mode out of range';
  if (e.type === 'file' && (typeof e.sha256 !== 'string' || !sha256Hex.test(e.sha256))) return 'a file has no valid sha256';
  if (e.linkTarget !== undefined && !boundedString(e.linkTarget, maxPathChars)) return 'a symlink target is malformed';
  return rawNameProblem(e);
}

/** Why the header (everything but the entries) is unusable, or undefined. */
export function headerProblem(m: Record<string, unknown>, expectedId: string): string | undefined {
  if (m.id !== expectedId || typeof m.id !== 'string' || !archiveIdPattern.test(m.id)) return 'its id does not match its key';
  if (!isIsoDate(m.created)) return '"created" is not an ISO 8601 date';
  if (typeof m.label !== 'string' || m.label.length > maxLabelChars) return '"label" is missing or too long';
  if (typeof m.host !== 'string' || m.host.length > maxHostChars) return '"host" is missing or too long';
  if (typeof m.fingerprint !== 'string' || !sha256Hex.test(m.fingerprint)) return '"fingerprint" is not a sha256';
  if (!Array.isArray(m.sources) || m.sources.length > maxSources) return '"sources" is missing';
  for (const s of m.sources as unknown[]) {
    if (!isObject(s) || !boundedString(s.path, maxPathChars) || !boundedString(s.name, maxPathChars) || !entryTypes.has(s.type as EntryType)) return 'a source is malformed';
  }
  const a = m.archive;
  if (!isObject(a) || !boundedString(a.key, maxPathChars) || !isSize(a.tarSize) || !isSize(a.size) || typeof a.sha256 !== 'string' || !sha256Hex.test(a.sha256)) {
    return '"archive" is incomplete';
  }
  if (typeof a.storageClass !== 'string' || !isStorageClass(a.storageClass)) return 'unknown storage class';
  const enc = m.encryption;
  if (!isObject(enc) || (enc.mode !== 'passphrase' && enc.mode !== 'public-key') || !Array.isArray(enc.recipients) || enc.recipients.length > maxRecipients) {
    return '"encryption" is incomplete';
  }
  if (!(enc.recipients as unknown[]).every((r) => typeof r === 'string' && fingerprintHex.test(r))) return 'a recipient is not a key fingerprint';
  if (!isSize(m.fileCount) || !isSize(m.fileBytes)) return '"entries" is missing';
  if (m.skipped !== undefined) {
    if (!Array.isArray(m.skipped) || !m.skipped.every((s) => isObject(s) && boundedString(s.path, maxPathChars) && typeof s.reason === 'string' && s.reason.length <= maxReasonChars)) {
      return '"skipped" is malformed';
    }
  }
  if (m.changed !== undefined && (!Array.isArray(m.changed) || !m.changed.every((p) => boundedString(p, maxPathChars)))) return '"changed" is malformed';
  if (m.rebuilt !== undefined && m.rebuilt !== true) return '"rebuilt" is malformed';
  // A later version may name another compression: the archive's packets say what it is, so only the shape is checked.
  if (m.compression !== undefined && !(typeof m.compression === 'string' && m.compression.length <= 64)) return '"compression" is malformed';
  return undefined;
}
