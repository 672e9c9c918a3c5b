/**
 * What a restore was requested for, kept until it is downloaded: per snapshot, the paths chosen in
 * it (none: all of it) and the archives of its chain those paths read (the plan's). Restores take
 * hours and windows reload between, so the record lives in globalState (archive ids and paths
 * inside archives; nothing secret). It lets the watcher offer the snapshot, with just those paths,
 * once every archive it reads is back, rather than each archive of a chain on its own. The pure
 * functions below have no `vscode`, so they are unit-tested.
 */
import type * as vscode from 'vscode';
import * as path from 'node:path';
import type { ManifestEntry } from '../core/model/entry';
import { plural } from './when';

export interface Wanted {
  /** Exact paths in the snapshot (readable form); absent: all of it. */
  paths?: string[];
  /** The archives the restore reads; absent (records of older versions): the snapshot's own. */
  archives?: string[];
}

export type WantedMap = Record<string, Wanted>;

const key = 'glacierBackup.wantedFiles';
const maxPaths = 10_000;
const maxArchives = 10_000;

const strings = (v: unknown, max: number): string[] | undefined =>
  Array.isArray(v) && v.length > 0 && v.length <= max && v.every((x) => typeof x === 'string' && x.length > 0) ? [...(v as string[])] : undefined;

/** The record as read from globalState: older versions kept one file per archive as a string; anything malformed is dropped. */
export function parseWanted(raw: unknown): WantedMap {
  const out: WantedMap = {};
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return out;
  for (const [id, v] of Object.entries(raw as Record<string, unknown>)) {
    if (typeof v === 'string') {
      if (v) out[id] = { paths: [v] };
      continue;
    }
    if (!v || typeof v !== 'object') continue;
    const paths = strings((v as Wanted).paths, maxPaths);
    const archives = strings((v as Wanted).archives, maxArchives);
    out[id] = { ...(paths ? { paths } : {}), ...(archives ? { archives } : {}) };
  }
  return out;
}

const archivesOf = (wanted: WantedMap, snapshot: string): string[] => wanted[snapshot]?.archives ?? [snapshot];

/**
 * The snapshots that `archive` being ready completes: their request reads it, and every other
 * archive it reads is ready too. `undefined` when no request reads `archive` (an archive restored
 * for itself, as before this record existed).
 */
export function completedBy(wanted: WantedMap, archive: string, ready: (id: string) => boolean): string[] | undefined {
  const readers = Object.keys(wanted).filter((id) => archivesOf(wanted, id).includes(archive));
  if (readers.length === 0) return undefined;
  return readers.filter((id) => archivesOf(wanted, id).every((a) => a === archive || ready(a)));
}

/**
 * What the status bar counts: one item per restore request (a snapshot and the archives its plan
 * reads) with an archive in the pending list, being restored while any of them is and ready once
 * all of them are; and one per pending archive no request reads. A chain of three archives is one
 * restore pending, not three.
 */
export function restoreItems(wanted: WantedMap, pending: readonly { id: string; state: 'restoring' | 'ready' }[]): { id: string; state: 'restoring' | 'ready' }[] {
  const stateOf = new Map(pending.map((p) => [p.id, p.state]));
  const covered = new Set<string>();
  const items: { id: string; state: 'restoring' | 'ready' }[] = [];
  for (const snapshot of Object.keys(wanted)) {
    const states = archivesOf(wanted, snapshot).flatMap((a) => {
      const s = stateOf.get(a);
      if (s) covered.add(a);
      return s ? [s] : [];
    });
    if (states.length > 0) items.push({ id: snapshot, state: states.includes('restoring') ? 'restoring' : 'ready' });
  }
  for (const p of pending) if (!covered.has(p.id)) items.push({ id: p.id, state: p.state });
  return items;
}

/** The archives of `snapshot`'s request that no other request reads: the watcher lets them go once it is downloaded. */
export function releasable(wanted: WantedMap, snapshot: string): string[] {
  const others = new Set(Object.keys(wanted).filter((id) => id !== snapshot).flatMap((id) => archivesOf(wanted, id)));
  return [...new Set([snapshot, ...archivesOf(wanted, snapshot)])].filter((a) => !others.has(a));
}

/** The picked paths without those inside a picked folder (a folder brings back what it holds). */
export function outermost(paths: readonly string[]): string[] {
  const clean = [...new Set(paths.map((p) => p.replace(/\/+$/, '')))].sort();
  return clean.filter((p) => !clean.some((q) => q !== p && p.startsWith(`${q}/`)));
}

/**
 * The rows of "Only some files or folders…": folders first (picking one brings back what it
 * holds), then files, each in path order. A manifest longer than `limit` shows every folder and
 * the first files up to the limit, and says how many it left out.
 */
export function pathChoices(entries: readonly ManifestEntry[], limit = 20_000): { rows: { path: string; folder: boolean; size: number }[]; omitted: number } {
  const byPath = (a: ManifestEntry, b: ManifestEntry): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
  const folders = entries.filter((e) => e.type === 'directory').sort(byPath);
  const files = entries.filter((e) => e.type !== 'directory').sort(byPath);
  const room = Math.max(0, limit - folders.length);
  const rows = [...folders, ...files.slice(0, room)].map((e) => ({ path: e.path.replace(/\/+$/, ''), folder: e.type === 'directory', size: e.size }));
  return { rows, omitted: Math.max(0, files.length - room) };
}

/** "only notes.txt" or "only 3 files or folders": what a restore of some paths is for. */
export function onlyText(paths: readonly string[], only = 'only'): string {
  return `${only} ${paths.length === 1 ? path.posix.basename(paths[0]!) : plural(paths.length, 'file or folder', 'files or folders')}`;
}

export class WantedRestores {
  constructor(private readonly memento: vscode.Memento) {}

  all(): WantedMap {
    return parseWanted(this.memento.get<unknown>(key, {}));
  }

  get(id: string): Wanted | undefined {
    return this.all()[id];
  }

  /** Records what a restore of `id` is for (replacing an earlier record of it). */
  async remember(id: string, wanted: Wanted): Promise<void> {
    await this.memento.update(key, { ...this.all(), [id]: wanted });
  }

  async forget(id: string): Promise<void> {
    const { [id]: _, ...rest } = this.all();
    await this.memento.update(key, rest);
  }
}
