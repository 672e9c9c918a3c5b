/**
 * The local cache of what listing shows of each snapshot (label, time, host, source paths, file
 * count and bytes), one file per store in the local state folder, keyed by the object it was read
 * from (the summary, or the manifest of a snapshot without one) and that object's ETag: an object
 * that is replaced gets another tag, so nothing stale is ever shown. A second `list` of an
 * unchanged bucket then reads nothing but the LIST.
 *
 * It never holds secrets or file lists. It is a cache: a missing, damaged or oversized file is an
 * empty cache, and deleting it only costs the next listing its reads. It is written atomically
 * (util/atomicWrite.ts), holds only the objects of the latest listing (so it never outgrows the
 * bucket), and is bounded when read like anything else that could have been tampered with.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../util/atomicWrite';
import type { ArchiveStore } from '../store/archiveStore';
import { boundedString, isIsoDate, isObject, isSize, maxHostChars, maxLabelChars, maxPathChars } from './manifestCheck';

/** The parts of a snapshot a listing shows. */
export interface ArchiveSummary {
  label: string;
  created: string;
  host: string;
  sources: string[];
  fileCount: number;
  fileBytes: number;
}

const cacheFormat = 'glacier-backup/summary-cache';
/** Far above what 100,000 snapshots take (about 300 bytes each); a larger file is ignored. */
const maxCacheBytes = 64 << 20;
const maxEntries = 200_000;
const maxSourcesCached = 1000;
const maxEtagChars = 256;

export class SummaryCache {
  private readonly seen = new Map<string, [string, ArchiveSummary]>();
  private dirty = false;

  private constructor(
    private readonly file: string,
    private readonly stateId: string,
    private readonly stored: ReadonlyMap<string, [string, ArchiveSummary]>,
  ) {}

  /** The cache of `store` in the state folder `dir` (empty when absent or unreadable). */
  static async open(dir: string, store: Pick<ArchiveStore, 'stateId'>): Promise<SummaryCache> {
    const name = createHash('sha256').update(store.stateId).digest('hex').slice(0, 32);
    const file = path.join(dir, 'summaries', `${name}.json`);
    return new SummaryCache(file, store.stateId, await load(file, store.stateId));
  }

  /** The summary read from `key` while its ETag was `etag`, if cached; marks it as still listed. */
  get(key: string, etag: string | undefined): ArchiveSummary | undefined {
    const hit = etag === undefined ? undefined : this.stored.get(key);
    if (!hit || hit[0] !== etag) return undefined;
    this.seen.set(key, hit);
    return hit[1];
  }

  set(key: string, etag: string | undefined, summary: ArchiveSummary): void {
    if (etag === undefined || etag.length > maxEtagChars || summaryProblem(summary)) return;
    this.seen.set(key, [etag, summary]);
    this.dirty = true;
  }

  /** Writes what this listing read or used: entries of objects no longer listed are dropped. */
  async save(): Promise<void> {
    if (!this.dirty && this.seen.size === this.stored.size) return;
    const entries = Object.fromEntries([...this.seen].slice(0, maxEntries));
    await writeFileAtomic(this.file, JSON.stringify({ format: cacheFormat, store: this.stateId, entries }));
  }
}

async function load(file: string, stateId: string): Promise<Map<string, [string, ArchiveSummary]>> {
  const out = new Map<string, [string, ArchiveSummary]>();
  let raw: unknown;
  try {
    const handle = await fs.open(file, 'r');
    try {
      if ((await handle.stat()).size > maxCacheBytes) return out;
      raw = JSON.parse(await handle.readFile('utf8'));
    } finally {
      await handle.close();
    }
  } catch {
    return out; // absent or damaged: an empty cache
  }
  if (!isObject(raw) || raw.format !== cacheFormat || raw.store !== stateId || !isObject(raw.entries)) return out;
  for (const [key, value] of Object.entries(raw.entries)) {
    if (out.size >= maxEntries) break;
    if (!Array.isArray(value) || value.length !== 2 || !boundedString(value[0], maxEtagChars) || summaryProblem(value[1])) continue;
    out.set(key, [value[0], value[1] as ArchiveSummary]);
  }
  return out;
}

/** Whether `s` is not a well-formed summary (the cache file is local but may be damaged). */
function summaryProblem(s: unknown): boolean {
  if (!isObject(s)) return true;
  if (typeof s.label !== 'string' || s.label.length > maxLabelChars || typeof s.host !== 'string' || s.host.length > maxHostChars) return true;
  if (!isIsoDate(s.created) || !isSize(s.fileCount) || !isSize(s.fileBytes)) return true;
  return !Array.isArray(s.sources) || s.sources.length > maxSourcesCached || !s.sources.every((p) => boundedString(p, maxPathChars));
}
