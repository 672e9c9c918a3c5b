/**
 * Finds folders of the previous snapshot that reappear under another path with the same content
 * (docs/format-v2.md, "Renamed folders"): the same relative names, types, sizes, mtimes, modes and
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
import type { EntryType } from '../walk';

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
 * The folder renames from `previous` to `current` (both every entry of a snapshot; previous
 * files carry their sha256), each confirmed by `confirm`, in the order they are to be applied.
 */
export function findRenames(previous: readonly (TreeItem & { sha256?: string })[], current: readonly TreeItem[], confirm: ConfirmRename): RenameCandidate[] {
  const before = new Map(previous.map((e) => [e.path, e]));
  const now = new Set(current.map((e) => e.path));
  const old = subtrees(previous);
  const fresh = subtrees(current);
  const targets = new Map<string, string[]>();
  for (const [dir, sub] of fresh) {
    if (before.has(dir) || sub.files === 0 || parentOf(dir) === undefined) continue;
    const list = targets.get(sub.hash);
    if (list) list.push(dir);
    else targets.set(sub.hash, [dir]);
  }
  const sources = [...old.keys()].filter((d) => !now.has(d) && parentOf(d) !== undefined && (old.get(d)?.files ?? 0) > 0);
  sources.sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : a > b ? 1 : 0));
  const accepted: RenameCandidate[] = [];
  const clashes = (p: string): boolean => accepted.some((r) => isWithin(p, r.from) || isWithin(p, r.to) || isWithin(r.from, p) || isWithin(r.to, p));
  for (const from of sources) {
    if (clashes(from)) continue;
    const list = targets.get(old.get(from)!.hash) ?? [];
    for (const to of list) {
      if (rootOf(to) !== rootOf(from) || clashes(to) || isWithin(to, from) || isWithin(from, to)) continue;
      const files: RenameCandidate['files'] = [];
      for (const e of current) {
        if (e.type !== 'file' || !isWithin(e.path, to)) continue;
        const was = before.get(from + e.path.slice(to.length));
        files.push({ path: e.path, sha256: was?.sha256 ?? '' });
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
