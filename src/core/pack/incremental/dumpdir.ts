/**
 * GNU tar's incremental directory records (docs/format.md, "Chains", "Directory records"): the value of
 * a directory header's `GNU.dumpdir` PAX record. `tar -x -G` reads it when it extracts that
 * directory: it first applies the R/T renames, then deletes every child on disk the list does not
 * name. Pure; names are archive names as rawNames.ts carries them (their bytes are written).
 */
import { toBytes } from '../../model/rawNames';

/** `Y` the child's member follows in this archive, `N` unchanged at this path, `D` a subdirectory. */
export type DumpLetter = 'Y' | 'N' | 'D';

export interface DumpChild {
  /** A base name: no "/" and no NUL. */
  name: string;
  letter: DumpLetter;
}

/** A folder's move, both paths from the tar root (so relative to `-C DEST`). */
export type FolderRename = readonly [from: string, to: string];

/**
 * The record: each child as its letter, its name's bytes and a NUL, sorted by the names' bytes
 * (GNU tar looks names up by binary search in strcmp order), then each rename as `R<from>\0T<to>\0`,
 * then one more NUL. Throws on a malformed or repeated name: the list must name each child once.
 */
export function encodeDumpdir(children: readonly DumpChild[], renames: readonly FolderRename[] = []): Buffer {
  const named = children.map((c) => ({ letter: c.letter, bytes: toBytes(c.name) }));
  named.sort((a, b) => Buffer.compare(a.bytes, b.bytes));
  const parts: Buffer[] = [];
  let last: Buffer | undefined;
  for (const c of named) {
    if (c.bytes.length === 0 || c.bytes.includes(0) || c.bytes.includes(0x2f)) throw new Error(`not a base name for a dumpdir: ${JSON.stringify(c.bytes.toString())}`);
    if (last?.equals(c.bytes)) throw new Error(`a dumpdir names ${JSON.stringify(c.bytes.toString())} twice`);
    last = c.bytes;
    parts.push(Buffer.from(c.letter), c.bytes, zero);
  }
  for (const [from, to] of renames) {
    const a = toBytes(from);
    const b = toBytes(to);
    if (a.length === 0 || b.length === 0 || a.includes(0) || b.includes(0)) throw new Error('a rename needs two paths without NUL');
    parts.push(Buffer.from('R'), a, zero, Buffer.from('T'), b, zero);
  }
  parts.push(zero);
  return Buffer.concat(parts);
}

/** The children and renames of a record (for tests and readers); the inverse of encodeDumpdir. */
export function decodeDumpdir(record: Buffer): { children: { letter: string; name: Buffer }[]; renames: [Buffer, Buffer][] } {
  const children: { letter: string; name: Buffer }[] = [];
  const renames: [Buffer, Buffer][] = [];
  let pendingFrom: Buffer | undefined;
  for (let at = 0; at < record.length && record[at] !== 0; ) {
    const end = record.indexOf(0, at);
    if (end < 0) throw new Error('a dumpdir entry has no NUL');
    const letter = String.fromCharCode(record[at]!);
    const name = record.subarray(at + 1, end);
    if (letter === 'R') pendingFrom = name;
    else if (letter === 'T' && pendingFrom) {
      renames.push([pendingFrom, name]);
      pendingFrom = undefined;
    } else children.push({ letter, name });
    at = end + 1;
  }
  return { children, renames };
}

const zero = Buffer.alloc(1);
