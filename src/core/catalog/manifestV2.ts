/**
 * The fields format version 2 adds to a manifest (docs/format.md, "Chains", "Manifest (version 2)"), and
 * their checks as hostile input, in the style of manifestCheck.ts: whatever passes is what the
 * restore planner may rely on. Every archive id a manifest names (`in`, a chunk's archive, `needs`)
 * is an id of its own chain no newer than its own, `needs` is ordered and holds every archive the
 * entries name, and every list is bounded (chainLimits).
 *
 * Not yet called by parseManifest (which refuses version 2): the wiring step calls
 * v2HeaderProblem once the header is read and V2EntryChecker for each entry.
 */
import { archiveIdPattern } from '../config';
import { chainLimits, type ChainInfo, type ChunkRef } from '../model/chain';
import { boundedString, isObject, isSize, maxPathChars } from './manifestCheck';
import { rawNameProblem } from './rawNameCheck';

export const manifestVersion2 = 2;

/** The header fields version 2 adds (the counts are what the backup reports). */
export interface ManifestV2Fields {
  version: 2;
  chain: ChainInfo;
  /** The archives a whole restore reads with `tar -x -G`, oldest first; the last is this snapshot's own. */
  needs: string[];
  /** Folders this snapshot's archive renames, as [from, to] paths from the tar root. */
  renames?: [string, string][];
  added: number;
  changedFiles: number;
  removed: number;
  uploadedBytes: number;
}

const sha256Hex = /^[0-9a-f]{64}$/;

function isId(v: unknown): v is string {
  return typeof v === 'string' && archiveIdPattern.test(v);
}

/** Strictly ascending ids: ids sort by time, so this is "oldest first, no repeats". */
function ascendingIds(v: unknown, max: number): v is string[] {
  if (!Array.isArray(v) || v.length > max || !v.every(isId)) return false;
  return v.every((id, i) => i === 0 || (v[i - 1] as string) < id);
}

/** Why the chain, needs, renames or counts of manifest `m` (whose id is checked already) are unusable, or undefined. */
export function v2HeaderProblem(m: Record<string, unknown>): string | undefined {
  const own = m.id as string;
  const c = m.chain;
  if (!isObject(c)) return '"chain" is missing';
  if (!ascendingIds(c.archives, chainLimits.maxChainLength) || c.archives.length === 0) return '"chain.archives" is not a list of ids, oldest first';
  const archives = c.archives;
  if (archives[archives.length - 1] !== own) return '"chain.archives" does not end with this snapshot';
  if (c.full !== archives[0]) return '"chain.full" is not the chain\'s first archive';
  if (c.level !== archives.length - 1) return '"chain.level" does not match the chain';
  if (c.previous !== (archives.length > 1 ? archives[archives.length - 2] : null)) return '"chain.previous" does not match the chain';
  if (!ascendingIds(c.renamed, chainLimits.maxChainLength) || !c.renamed.every((id) => archives.includes(id))) return '"chain.renamed" names an archive outside the chain';
  if (!ascendingIds(m.needs, chainLimits.maxChainLength) || m.needs.length === 0) return '"needs" is not a list of ids, oldest first';
  if (!m.needs.every((id) => archives.includes(id))) return '"needs" names an archive outside the chain';
  if (m.needs[m.needs.length - 1] !== own) return '"needs" does not end with this snapshot';
  if (m.renames !== undefined) {
    if (!Array.isArray(m.renames) || m.renames.length > chainLimits.maxRenames) return '"renames" is malformed';
    const pairs = m.renames as unknown[];
    if (!pairs.every((r) => Array.isArray(r) && r.length === 2 && boundedString(r[0], maxPathChars) && boundedString(r[1], maxPathChars))) return '"renames" is malformed';
    if (pairs.length > 0 && !(c.renamed as string[]).includes(own)) return '"renames" is not recorded in "chain.renamed"';
  }
  for (const k of ['added', 'changedFiles', 'removed', 'uploadedBytes'] as const) if (!isSize(m[k])) return `"${k}" is not a count`;
  return undefined;
}

/**
 * Checks the version 2 fields of each entry against the header (`needs`, checked by
 * v2HeaderProblem first), and the total of chunks across entries.
 */
export class V2EntryChecker {
  private readonly needs: Set<string>;
  private totalChunks = 0;

  constructor(header: Pick<ManifestV2Fields, 'needs'>) {
    this.needs = new Set(header.needs);
  }

  /** Why this entry's `in`, `at` or `chunks` is unusable, or undefined. */
  problem(e: Record<string, unknown>): string | undefined {
    if (e.in !== undefined && !(isId(e.in) && this.needs.has(e.in))) return 'an entry\'s "in" is not an archive the snapshot needs';
    if (e.at !== undefined && (e.in === undefined || !boundedString(e.at, maxPathChars))) return 'an entry\'s "at" is malformed';
    if (e.atBytes !== undefined && (e.at === undefined || rawNameProblem({ path: e.at, pathBytes: e.atBytes }) !== undefined)) return 'an entry\'s "atBytes" is malformed';
    if (e.chunks === undefined) return undefined;
    if (e.type !== 'file' || !Array.isArray(e.chunks) || e.chunks.length > chainLimits.maxChunksPerFile) return 'an entry\'s "chunks" is malformed';
    this.totalChunks += e.chunks.length;
    if (this.totalChunks > chainLimits.maxTotalChunks) return 'the manifest has too many chunks (the limit of this version)';
    let size = 0;
    for (const c of e.chunks as unknown[]) {
      if (!isChunkRef(c)) return 'a chunk is malformed';
      if (!this.needs.has(c[2])) return 'a chunk\'s archive is not one the snapshot needs';
      size += c[1]; // exact: at most maxChunksPerFile × maxChunkLength, far below 2^53
    }
    if (size !== e.size) return 'a chunked file\'s chunks do not add up to its size';
    return undefined;
  }
}

function isChunkRef(c: unknown): c is ChunkRef {
  return Array.isArray(c) && c.length === 3 && typeof c[0] === 'string' && sha256Hex.test(c[0]) && isSize(c[1]) && c[1] > 0 && c[1] <= chainLimits.maxChunkLength && isId(c[2]);
}
