/**
 * An upper bound of the tar size archiveWriter.ts makes from a plan, before any file is read (for
 * choosing the multipart part size, as tarSizeBound does for version 1): exact for what the walk
 * saw, unless files change before they are read; chunked files are counted as if every chunk were
 * new and of the minimum size.
 */
import { headerFor, padding, planHeader } from '../tarHeader';
import { byteLength } from '../../model/rawNames';
import { defaultChunking } from './chunker';
import type { CurrentEntries, IncrementPlan } from './plan';
import { defaultChunkThreshold, isChunkable } from './records';

const block = 512;
/** A chunk member's header (its name fits ustar) and padding, and its line in a recipe and in the chunks list. */
const perChunk = block + (block - 1) + 65 + 66;

export function archiveSizeBound(current: CurrentEntries, plan: IncrementPlan, chunkThreshold = defaultChunkThreshold, minChunk = defaultChunking.min): number {
  let total = 1024;
  let recipes = 0;
  let sums = 0;
  let chunks = 0;
  for (let i = 0; i < current.length; i++) {
    const e = current.get(i);
    const letter = plan.entries[i]!.letter;
    if (e.type === 'directory') {
      total += planHeader({ ...headerFor(e), dumpdir: plan.dumpdir(i) }).length;
      continue;
    }
    if (e.type !== 'file') {
      if (letter === 'Y') total += planHeader(headerFor(e)).length;
      continue;
    }
    // sha256sum line: an escape, the hash, two spaces, the name with each byte at most doubled, a newline.
    sums += 68 + 2 * byteLength(e.path);
    const kept = plan.entries[i]!.kept?.chunks;
    if (kept) {
      chunks += kept.length;
      recipes += byteLength(e.path) + 1;
    }
    if (letter !== 'Y') continue;
    const header = planHeader(headerFor(e)).length;
    if (!isChunkable(e.path, e.size, chunkThreshold)) {
      total += header + e.size + padding(e.size);
      continue;
    }
    const n = Math.ceil(e.size / minChunk) + 1;
    chunks += n;
    recipes += byteLength(e.path) + 1;
    total += header + e.size + n * perChunk + block;
  }
  // The records: two folder headers (PAX with the dumpdir), the recipes list and SHA256SUMS.
  total += 2 * (3 * block + 200) + chunks * 66;
  total += 2 * block + recipes + block + sums + block;
  return total;
}
