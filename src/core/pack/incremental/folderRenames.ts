/**
 * Finds folders of the previous snapshot that reappear under another path with the same content
 * (docs/format.md, "Chains", "Renamed folders"): the same relative names, types, sizes, mtimes, modes and
 * link targets, compared through a hash of each folder's subtree, and then the same file contents,
 * which the caller checks (it reads the files; this module reads nothing).
 *
 * Guarantees: the renames returned are disjoint (no path of one lies inside another's source or
 * target), each stays inside one root, its source is a folder of the previous snapshot absent
 * from the current one and its target a folder of the current one absent from the previous one
 * (so GNU tar's rename finds the source on disk and nothing at the target), and each moves at
 * least one file. The top-most match wins; a rejected match lets the folders inside it be tried.
 */
import { createHash } from 'node:crypto';
import type { EntryType } from '../../model/entry';

/** What the subtree hash covers, for one entry. */
export interface TreeItem {
  /** The archive path, raw (rawNames.ts). */
  path: string;
  type: EntryType;
  size: number;
  mtime: number;
  mode: number;
  linkTarget?: string;
}

export interface RenameCandidate {
  from: string;
  to: string;
  /** Each file moved, by its new path, with the SHA-256 the previous snapshot recorded. */
  files: { path: string; sha256: string }[];
}

/** Accepts a candidate once the files' contents are checked (for example by hashing them). */
export type ConfirmRename = (candidate: RenameCandidate) => boolean;

interface Subtree {
  hash: string;
  files: number;
}

export function parentOf(p: string): string | undefined {
  const i = p.lastIndexOf('/');
  return i < 0 ? undefined : p.slice(0, i);
}

function rootOf(p: string): string {
  const i = p.indexOf('/');
  return i < 0 ? p : p.slice(0, i);
}

export function isWithin(p: string, dir: string): boolean {
  return p === dir || (p.length > dir.length && p.startsWith(dir) && p[dir.length] === '/');
}

/** For every folder, a hash of its subtree that does not depend on its own path or metadata. */
function subtrees(items: Iterable<TreeItem>): Map<string, Subtree> {
  const children = new Map<string, string[]>();
  const lines = new Map<string, string>();
  const files = new Set<string>();
  const dirs: string[] = [];
  for (const e of items) {
    if (e.type === 'directory') dirs.push(e.path);
    if (e.type === 'file') files.add(e.path);
    const parent = parentOf(e.path);
    if (parent === undefined) continue;
    const name = e.path.slice(parent.length + 1);
    lines.set(e.path, JSON.stringify([name, e.type, e.size, e.mtime, e.mode, e.linkTarget ?? null]));
    const list = children.get(parent);
    if (list) list.push(e.path);
    else children.set(parent, [e.path]);
  }
  const out = new Map<string, Subtree>();
  const depth = (p: string): number => p.split('/').length;
  dirs.sort((a, b) => depth(b) - depth(a));
  for (const dir of dirs) {
    const h = createHash('sha256');
    let count = 0;
    for (const child of (children.get(dir) ?? []).sort()) {
      const sub = out.get(child);
      h.update(`${lines.get(child)}${sub ? sub.hash : ''}\n`);
      count += sub ? sub.files : files.has(child) ? 1 : 0;
    }
    out.set(dir, { hash: h.digest('hex'), files: count });
  }
  return out;
}

/**
 * The folder renames from `previous` to `current` (both every entry of a snapshot, by raw path,
 * `current` in walk order; previous files carry their sha256), each confirmed by `confirm`, in the
 * order they are to be applied. Only folders that are gone and folders that are new are hashed.
 */
export function findRenames(previous: ReadonlyMap<string, TreeItem & { sha256?: string }>, current: readonly TreeItem[], confirm: ConfirmRename): RenameCandidate[] {
  const position = new Map(current.map((e, i) => [e.path, i]));
  const gone = new Set<string>();
  for (const e of previous.values()) if (e.type === 'directory' && !position.has(e.path) && parentOf(e.path) !== undefined) gone.add(e.path);
  const fresh = new Set<string>();
  for (const e of current) if (e.type === 'directory' && !previous.has(e.path) && parentOf(e.path) !== undefined) fresh.add(e.path);
  if (gone.size === 0 || fresh.size === 0) return [];
  // Everything inside a gone (new) folder is gone (new) too: a folder's subtree is its entries whose parent is such a folder.
  const inside = (set: Set<string>) => (e: TreeItem): boolean => set.has(e.path) || set.has(parentOf(e.path) ?? '');
  const old = subtrees([...previous.values()].filter(inside(gone)));
  const made = subtrees(current.filter(inside(fresh)));
  const targets = new Map<string, string[]>();
  for (const dir of fresh) {
    const sub = made.get(dir)!;
    if (sub.files === 0) continue;
    const list = targets.get(sub.hash);
    if (list) list.push(dir);
    else targets.set(sub.hash, [dir]);
  }
  const sources = [...gone].filter((d) => old.get(d)!.files > 0);
  sources.sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : a > b ? 1 : 0));
  const accepted: RenameCandidate[] = [];
  const clashes = (p: string): boolean => accepted.some((r) => isWithin(p, r.from) || isWithin(p, r.to) || isWithin(r.from, p) || isWithin(r.to, p));
  for (const from of sources) {
    if (clashes(from)) continue;
    const list = targets.get(old.get(from)!.hash) ?? [];
    for (const to of list) {
      if (rootOf(to) !== rootOf(from) || clashes(to) || isWithin(to, from) || isWithin(from, to)) continue;
      const files: RenameCandidate['files'] = [];
      // In walk order a folder's subtree follows it.
      for (let i = position.get(to)! + 1; i < current.length && isWithin(current[i]!.path, to); i++) {
        const e = current[i]!;
        if (e.type === 'file') files.push({ path: e.path, sha256: previous.get(from + e.path.slice(to.length))?.sha256 ?? '' });
      }
      const candidate = { from, to, files };
      if (!confirm(candidate)) continue;
      accepted.push(candidate);
      list.splice(list.indexOf(to), 1);
      break;
    }
  }
  return accepted;
}
