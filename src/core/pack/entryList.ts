/**
 * Compact, append-only tables of per-file state, so that a backup of many files holds tens of
 * bytes per file rather than several hundred: the walked entries (SourceEntryList) and what the
 * tar writer recorded for them (ManifestEntryList). Numbers live in typed arrays, each entry keeps
 * only its base name (as rawNames.ts carries it), and paths are rebuilt from the parent
 * folder's on access.
 *
 * Guarantees: entries come back in the order they were added, each time as a fresh object equal
 * to what was added (with the same property order, so its JSON is the same), which the caller
 * may keep or change.
 */
import * as path from 'node:path';
import type { EntryType } from '../model/entry';
import type { SourceEntry } from './walk';
import type { ManifestEntry } from '../model/entry';
import { linkFields, pathFields } from '../model/rawNames';

type Column = Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

function grown<T extends Column>(column: T, need: number): T {
  if (need <= column.length) return column;
  const next = new (column.constructor as new (n: number) => T)(Math.max(need, column.length * 2));
  next.set(column);
  return next;
}

const typeCodes: readonly EntryType[] = ['file', 'directory', 'symlink'];
const initial = 64;

/** Where a folder or root is: its archive path and its absolute path on disk. */
interface Place {
  path: string;
  abs: string;
}

/** The walked entries, in walk order. */
export class SourceEntryList implements Iterable<SourceEntry> {
  private n = 0;
  private readonly names: string[] = [];
  private parents = new Int32Array(initial);
  private types = new Uint8Array(initial);
  private sizes = new Float64Array(initial);
  private mtimes = new Float64Array(initial);
  private modes = new Uint16Array(initial);
  private uids = new Uint32Array(initial);
  private gids = new Uint32Array(initial);
  private readonly links = new Map<number, string>();
  /** Folders and roots only, by entry index. */
  private readonly places = new Map<number, Place>();

  get length(): number {
    return this.n;
  }

  /**
   * Adds an entry named `name` inside the folder entry `parent`, or a root (parent -1, `name` its
   * archive name, `rootAbs` its absolute path). Returns its index.
   */
  add(parent: number, name: string, e: Omit<SourceEntry, 'path' | 'abs'>, rootAbs?: string): number {
    const i = this.n++;
    if (i >= this.parents.length) {
      const need = i + 1;
      this.parents = grown(this.parents, need);
      this.types = grown(this.types, need);
      this.sizes = grown(this.sizes, need);
      this.mtimes = grown(this.mtimes, need);
      this.modes = grown(this.modes, need);
      this.uids = grown(this.uids, need);
      this.gids = grown(this.gids, need);
    }
    this.names.push(name);
    this.parents[i] = parent;
    this.types[i] = typeCodes.indexOf(e.type);
    this.sizes[i] = e.size;
    this.mtimes[i] = e.mtimeMs;
    this.modes[i] = e.mode;
    this.uids[i] = e.uid;
    this.gids[i] = e.gid;
    if (e.linkTarget !== undefined) this.links.set(i, e.linkTarget);
    if (parent < 0) {
      if (rootAbs === undefined) throw new Error('a root entry needs its absolute path');
      this.places.set(i, { path: name, abs: rootAbs });
    } else if (e.type === 'directory') {
      this.places.set(i, this.childPlace(parent, name));
    }
    return i;
  }

  type(i: number): EntryType {
    return typeCodes[this.types[i]!]!;
  }

  path(i: number): string {
    return this.places.get(i)?.path ?? `${this.place(this.parents[i]!).path}/${this.names[i]!}`;
  }

  linkTarget(i: number): string | undefined {
    return this.links.get(i);
  }

  get(i: number): SourceEntry {
    if (!(i >= 0 && i < this.n)) throw new RangeError(`no entry ${i}`);
    const { path: p, abs } = this.places.get(i) ?? this.childPlace(this.parents[i]!, this.names[i]!);
    const e: SourceEntry = {
      path: p,
      abs,
      type: this.type(i),
      size: this.sizes[i]!,
      mtimeMs: this.mtimes[i]!,
      mode: this.modes[i]!,
      uid: this.uids[i]!,
      gid: this.gids[i]!,
    };
    const link = this.links.get(i);
    if (link !== undefined) e.linkTarget = link;
    return e;
  }

  *[Symbol.iterator](): Iterator<SourceEntry> {
    for (let i = 0; i < this.n; i++) yield this.get(i);
  }

  private place(i: number): Place {
    const p = this.places.get(i);
    if (!p) throw new Error(`entry ${i} is not a folder`);
    return p;
  }

  private childPlace(parent: number, name: string): Place {
    const dir = this.place(parent);
    return { path: `${dir.path}/${name}`, abs: joinName(dir.abs, name) };
  }
}

/** path.join for a normalised absolute folder and a plain name (what readdir returns), without re-normalising. */
export function joinName(dir: string, name: string): string {
  return dir.endsWith(path.sep) ? dir + name : dir + path.sep + name;
}

/** What the tar writer recorded for each entry it wrote, in tar order (the manifest's entries). */
export class ManifestEntryList implements Iterable<ManifestEntry> {
  private n = 0;
  private sources: Int32Array;
  private sizes: Float64Array;
  private mtimes: Float64Array;
  private modes: Uint16Array;
  /** 32 bytes per entry; all zero for entries that are not files. */
  private hashes: Uint8Array;
  /** Files recorded, and the sum of their sizes. */
  fileCount = 0;
  fileBytes = 0;

  /** Sized for one record per walked entry (the most the tar writer makes), so it never grows. */
  constructor(private readonly source: SourceEntryList) {
    const capacity = Math.max(initial, source.length);
    this.sources = new Int32Array(capacity);
    this.sizes = new Float64Array(capacity);
    this.mtimes = new Float64Array(capacity);
    this.modes = new Uint16Array(capacity);
    this.hashes = new Uint8Array(capacity * 32);
  }

  get length(): number {
    return this.n;
  }

  /** Records source entry `index` as written with this size, mtime and mode (and sha256, for a file). */
  add(index: number, size: number, mtime: number, mode: number, sha256?: Uint8Array): void {
    const i = this.n++;
    if (i >= this.sources.length) {
      this.sources = grown(this.sources, i + 1);
      this.sizes = grown(this.sizes, i + 1);
      this.mtimes = grown(this.mtimes, i + 1);
      this.modes = grown(this.modes, i + 1);
      this.hashes = grown(this.hashes, this.sources.length * 32);
    }
    this.sources[i] = index;
    this.sizes[i] = size;
    this.mtimes[i] = mtime;
    this.modes[i] = mode;
    if (this.source.type(index) === 'file') {
      if (sha256?.byteLength !== 32) throw new Error('a file entry needs its sha256');
      this.hashes.set(sha256, i * 32);
      this.fileCount++;
      this.fileBytes += size;
    }
  }

  get(i: number): ManifestEntry {
    if (!(i >= 0 && i < this.n)) throw new RangeError(`no entry ${i}`);
    const index = this.sources[i]!;
    const type = this.source.type(index);
    // Built by assignment, in JSON order: an object made by spreading serialises several times slower.
    const e = pathFields(this.source.path(index)) as ManifestEntry;
    e.type = type;
    e.size = this.sizes[i]!;
    e.mtime = this.mtimes[i]!;
    e.mode = this.modes[i]!;
    if (type === 'file') e.sha256 = Buffer.from(this.hashes.buffer, this.hashes.byteOffset + i * 32, 32).toString('hex');
    if (type === 'symlink') Object.assign(e, linkFields(this.source.linkTarget(index) ?? ''));
    return e;
  }

  *[Symbol.iterator](): Iterator<ManifestEntry> {
    for (let i = 0; i < this.n; i++) yield this.get(i);
  }
}
