/**
 * The freshness marker: one small plaintext object per host, `freshness/<host>.json` in STANDARD
 * (format.md "Objects"), rewritten after each successful backup so that a monitor outside (a
 * Lambda, a cron job with read access to the bucket, no key, no passphrase) can tell when each
 * of the host's source sets was last backed up. It holds no file name and no label: each source
 * set is named by a hash of its key, which only a machine that knows the paths can recompute.
 *
 * Guarantees: writing it never fails a backup (the caller gets one note per store and process);
 * a marker read back is untrusted: bounded in size and entries, every field checked, and one that
 * does not parse is replaced rather than merged. It is not part of the catalog: `check`, listings
 * and restores never read it.
 */
import { createHash } from 'node:crypto';
import { describeError, GlacierError } from '../errors';
import type { ArchiveStore } from '../store/archiveStore';
import { keys } from '../model/keys';

export const markerFormat = 'glacier-backup-freshness';
export const markerVersion = 1;
/** A marker larger than this is not read (a few hundred sets take 30 KiB). */
export const maxMarkerBytes = 256 * 1024;
/** Sets kept per host; beyond, the ones checked longest ago are dropped. */
export const maxMarkerSets = 500;

export interface MarkerSet {
  /** Creation time of the newest snapshot of the set. */
  newest: string;
  /** When a backup of the set last succeeded (it may have found nothing changed and uploaded nothing). */
  checked: string;
}

export interface FreshnessMarker {
  format: typeof markerFormat;
  version: number;
  host: string;
  /** When the marker was written. */
  updated: string;
  /** setHash(sources key) → times. */
  sets: Record<string, MarkerSet>;
}

/** The opaque name of a source set in the marker: 16 hex digits of the SHA-256 of its key. */
export function setHash(sourcesKey: string): string {
  return createHash('sha256').update(sourcesKey).digest('hex').slice(0, 16);
}

const isoPattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;

function isTime(v: unknown): v is string {
  return typeof v === 'string' && isoPattern.test(v) && !Number.isNaN(Date.parse(v));
}

/** A marker's text → its sets, or undefined when it is not a marker of this format (then it is replaced). */
export function parseMarker(text: string): Record<string, MarkerSet> | undefined {
  if (text.length > maxMarkerBytes) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const m = raw as Partial<FreshnessMarker> | null;
  if (!m || typeof m !== 'object' || m.format !== markerFormat || m.version !== markerVersion) return undefined;
  if (!m.sets || typeof m.sets !== 'object' || Array.isArray(m.sets)) return undefined;
  const sets: Record<string, MarkerSet> = {};
  for (const [hash, value] of Object.entries(m.sets).slice(0, maxMarkerSets)) {
    const v = value as Partial<MarkerSet> | null;
    if (/^[0-9a-f]{16}$/.test(hash) && v && isTime(v.newest) && isTime(v.checked)) sets[hash] = { newest: v.newest, checked: v.checked };
  }
  return sets;
}

/** The marker after a backup of one set: its times moved forward (never back), the oldest sets dropped beyond the bound. */
export function mergeMarker(host: string, previous: Record<string, MarkerSet>, set: string, times: { newest: Date; checked: Date }): FreshnessMarker {
  const hash = setHash(set);
  const before = previous[hash];
  const later = (a: string | undefined, b: Date): string => (a !== undefined && Date.parse(a) > b.getTime() ? a : b.toISOString());
  const sets = { ...previous, [hash]: { newest: later(before?.newest, times.newest), checked: later(before?.checked, times.checked) } };
  const kept = Object.entries(sets)
    .sort(([, a], [, b]) => Date.parse(b.checked) - Date.parse(a.checked))
    .slice(0, maxMarkerSets);
  return { format: markerFormat, version: markerVersion, host: host.slice(0, 255), updated: times.checked.toISOString(), sets: Object.fromEntries(kept) };
}

/** Reads the host's marker: its sets, {} when there is none or it is not one of ours. Other failures are thrown. */
async function readMarker(store: ArchiveStore, key: string, signal?: AbortSignal): Promise<Record<string, MarkerSet>> {
  let opened;
  try {
    opened = await store.open(key, { signal, what: 'the freshness marker', action: 'read the freshness marker' });
  } catch (err) {
    if (err instanceof GlacierError && err.code === 'not-found') return {};
    throw err;
  }
  if (opened.size > maxMarkerBytes) {
    await opened.body.return(undefined);
    return {};
  }
  const pieces: Uint8Array[] = [];
  let seen = 0;
  for await (const piece of opened.body) {
    seen += piece.byteLength;
    if (seen > maxMarkerBytes) {
      await opened.body.return(undefined);
      return {};
    }
    pieces.push(piece);
  }
  return parseMarker(Buffer.concat(pieces).toString('utf8')) ?? {};
}

/** Stores with a failed marker write already reported in this process: one note each, not one per backup. */
const reported = new Set<string>();

/**
 * Records a successful backup of `set` in the host's marker. Never throws: a failure becomes one
 * note (per store, per process) through `onNotice`, and the backup stands.
 */
export async function writeFreshnessMarker(
  store: ArchiveStore,
  entry: { host: string; set: string; newest: Date; checked: Date },
  options: { signal?: AbortSignal; onNotice?: (message: string) => void } = {},
): Promise<boolean> {
  const key = keys.freshness(entry.host);
  try {
    const previous = await readMarker(store, key, options.signal);
    const marker = mergeMarker(entry.host, previous, entry.set, entry);
    await store.replace(key, Buffer.from(`${JSON.stringify(marker, null, 1)}\n`), { signal: options.signal, contentType: 'application/json', action: 'write the freshness marker' });
    reported.delete(store.stateId);
    return true;
  } catch (err) {
    if (options.signal?.aborted) return false;
    if (!reported.has(store.stateId)) {
      reported.add(store.stateId);
      options.onNotice?.(`the freshness marker ${store.objectKey(key)} was not updated (the backup itself succeeded): ${describeError(err)}`);
    }
    return false;
  }
}
