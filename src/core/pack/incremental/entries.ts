/**
 * The entries of a format version 2 manifest (docs/format.md, "Chains", "Manifest (version 2)"), from the
 * walk, the plan and what the archive writer read: every entry of the snapshot, in walk order,
 * with `in`/`at` for members held by an earlier archive and `chunks` for chunked files.
 */
import { linkFields, pathFields } from '../../model/rawNames';
import type { ArchiveResult } from './archiveWriter';
import type { CurrentEntries, IncrementPlan, PreviousEntry } from './plan';

/** What a version 2 manifest records of an entry: version 1's fields and its placement. */
export type ManifestEntryV2 = PreviousEntry;

/** Skipped files (no member, nothing earlier) are left out, as version 1 does. */
export function* manifestEntriesV2(current: CurrentEntries, plan: IncrementPlan, written: ArchiveResult): Generator<ManifestEntryV2> {
  for (let i = 0; i < current.length; i++) {
    const e = current.get(i);
    const p = plan.entries[i]!;
    const w = written.files.get(i);
    if (e.type === 'file' && p.letter === 'Y' && !w) continue;
    const out = pathFields(e.path) as ManifestEntryV2;
    out.type = e.type;
    out.size = w?.size ?? e.size;
    out.mtime = w?.mtime ?? e.mtimeMs;
    out.mode = w?.mode ?? e.mode;
    const sha256 = w?.sha256 ?? p.kept?.sha256;
    if (e.type === 'file' && sha256) out.sha256 = sha256;
    if (e.type === 'symlink') Object.assign(out, linkFields(e.linkTarget ?? ''));
    if (p.kept) {
      out.in = p.kept.in;
      if (p.kept.at !== undefined) {
        const at = pathFields(p.kept.at);
        out.at = at.path;
        if (at.pathBytes !== undefined) out.atBytes = at.pathBytes;
      }
      if (p.kept.chunks) out.chunks = p.kept.chunks;
    } else if (w?.chunks) out.chunks = w.chunks;
    yield out;
  }
}
