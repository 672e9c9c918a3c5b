/**
 * Downloading a snapshot of format version 2 (docs/format.md, "Chains"): its manifest describes
 * the whole tree and, for each file, which archive of the chain holds its bytes (`in`, at `at`) or
 * its chunks. So the tree is rebuilt from the manifest, not by replaying the chain: each archive
 * holding wanted bytes is read once, oldest first, through the safe extractor into a parts folder
 * (only the members the manifest places in it), then every file is moved, or assembled from its
 * chunks, to its path; folders, symlinks, modes and times come from the manifest. Deleted files
 * and renamed folders need no replay: what the manifest does not list is never placed.
 *
 * Guarantees (on top of download.ts's): every archive read matches its own manifest's size and
 * sha256, every member and chunk its sha256; a missing, unrestored or damaged archive of the chain
 * fails before anything is published, with one line naming it. The manifest is hostile input:
 * every path is checked as an archive name is (entryRules.ts), and symlinks are made last, so
 * nothing is ever placed through one.
 */
import { createHash } from 'node:crypto';
import { closeSync, fchmodSync, futimesSync, openSync, readSync, writeSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { GlacierError } from '../errors';
import { readManifest } from '../catalog/catalog';
import type { CatalogEntry, Manifest } from '../catalog/manifest';
import type { ExtractedEntry } from '../pack/safeExtract';
import { checkLinkTarget, splitName } from '../pack/entryRules';
import { entryName, fromBytes, fsPath, readableName } from '../model/rawNames';
import { chunkMember } from '../pack/incremental/records';
import { openFlags } from '../pack/extractDisk';
import { keys } from '../model/keys';
import { archiveStatus } from './restoreRequest';
import type { DownloadRequest } from './download';
import { fetchDecryptUnpack, freeName, publish } from './unpack';
import { createStaging, removeTree, withStaging } from './staging';

const maxPathBytes = 4096;

/** Where an archive's wanted members are, by their (raw) name in that archive. */
interface ArchiveWants {
  id: string;
  /** Member name → the entries placed from it (one, unless a manifest repeats a placement). */
  members: Map<string, CatalogEntry[]>;
  chunks: Set<string>;
}

/** The archives (in `needs` order) holding the bytes of these files: the ones a download or restore reads. */
export function archivesHolding(m: Manifest, entries: readonly CatalogEntry[]): string[] {
  const wants = planArchives(m, entries);
  return [...wants.keys()];
}

function planArchives(m: Manifest, entries: readonly CatalogEntry[]): Map<string, ArchiveWants> {
  const byId = new Map<string, ArchiveWants>();
  const order = m.needs ?? [m.id];
  const want = (id: string): ArchiveWants => {
    let w = byId.get(id);
    if (!w) byId.set(id, (w = { id, members: new Map(), chunks: new Set() }));
    return w;
  };
  for (const e of entries) {
    if (e.type !== 'file') continue;
    if (e.chunks) {
      for (const [hash, , archive] of e.chunks) want(archive).chunks.add(chunkMember(hash));
      continue;
    }
    const member = e.at === undefined ? entryName(e) : entryName({ path: e.at, pathBytes: e.atBytes });
    const list = want(e.in ?? m.id).members;
    list.set(member, [...(list.get(member) ?? []), e]);
  }
  return new Map(order.filter((id) => byId.has(id)).map((id) => [id, byId.get(id)!]));
}

/** Reads a chain archive's manifest and state; one line naming the archive when it cannot be read now. */
async function openChainArchive(req: DownloadRequest, m: Manifest, id: string): Promise<{ size: number; sha256: string }> {
  const fail = (why: string, code: GlacierError['code'] = 'not-found'): GlacierError =>
    new GlacierError(code, `snapshot ${m.id} needs archive ${id} of its chain, which ${why}`);
  let own: Manifest = m;
  if (id !== m.id) {
    own = await readManifest(req.store, id, req.decryption, req.signal).catch((err: unknown) => {
      throw fail(`cannot be read: ${(err as Error).message}`, err instanceof GlacierError ? err.code : 'not-found');
    });
  }
  const status = await archiveStatus(req.store, id, req.signal).catch(() => {
    throw fail(`is missing from ${req.store.name}`);
  });
  if (status.glacier.state === 'archived') throw fail(`is in ${status.storageClass} and not restored: request a restore first (glacier-backup restore ${m.id})`);
  if (status.glacier.state === 'restoring') throw fail(`is still being restored from ${status.storageClass}`);
  return { size: own.archive.size, sha256: own.archive.sha256 };
}

/** Downloads snapshot `m` (version 2): `expected` are the manifest entries wanted (all, or the `--only` subset). */
export async function downloadChain(req: DownloadRequest, m: Manifest, dest: string, folder: string, expected: readonly CatalogEntry[]): Promise<{ path: string; entries: ExtractedEntry[] }> {
  const archives = planArchives(m, expected);
  const sums = new Map<string, { size: number; sha256: string }>();
  for (const id of archives.keys()) sums.set(id, await openChainArchive(req, m, id));
  const bytesTotal = [...sums.values()].reduce((n, s) => n + s.size, 0);
  let before = 0;

  return withStaging(dest, m.id, async (staging) => {
    const parts = await createStaging(dest, `${m.id}-parts`);
    try {
      const found = new Map<string, string>();
      for (const w of archives.values()) {
        const into = path.join(parts.path, w.id);
        await fs.mkdir(into);
        const got = await fetchDecryptUnpack({
          store: req.store,
          key: keys.archive(w.id),
          decryption: req.decryption,
          staging: into,
          filter: (name) => w.members.has(name) || w.chunks.has(name),
          // Only wanted files are written into the parts; symlinks are made from the manifest,
          // and their targets checked there (place), with the user's --allow-outside-links.
          allowOutsideLinks: true,
          signal: req.signal,
          what: `archive ${w.id}`,
          notRestored: `snapshot ${m.id} needs archive ${w.id} of its chain, which is not restored: request a restore first (glacier-backup restore ${m.id})`,
          onProgress: (p) => req.onProgress?.({ bytesDownloaded: before + p.bytesDownloaded, bytesTotal, entries: p.entries }),
          onResume: req.onResume,
        });
        before += got.size;
        const sum = sums.get(w.id)!;
        if (got.size !== sum.size || got.sha256 !== sum.sha256) {
          throw new GlacierError('corrupt', `snapshot ${m.id} needs archive ${w.id} of its chain, which does not match its manifest (size or sha256 of the stored object differs)`);
        }
        for (const e of got.entries) found.set(`${w.id}\0${e.path}`, e.type === 'file' ? path.join(into, e.localPath ?? e.path) : '');
        checkMembers(m, w, got.entries);
      }
      const placed = await place(m, staging, expected, found, req.allowOutsideLinks ?? false);
      await removeTree(parts.path);
      const final = await freeName(dest, folder);
      await publish(staging, final);
      return { path: final, entries: placed };
    } catch (err) {
      await removeTree(parts.path).catch(() => undefined);
      throw err;
    } finally {
      parts.release();
    }
  });
}

/** Every member the manifest places in this archive is there, of the right type and content. */
function checkMembers(m: Manifest, w: ArchiveWants, got: readonly ExtractedEntry[]): void {
  const byName = new Map(got.map((e) => [e.path, e]));
  const damaged = (what: string): GlacierError => new GlacierError('corrupt', `snapshot ${m.id} needs archive ${w.id} of its chain, which ${what}`);
  for (const [name, entries] of w.members) {
    const e = byName.get(name);
    if (!e) throw damaged(`lacks "${readableName(name)}" that the manifest places there`);
    if (e.type !== 'file' || e.sha256 !== entries[0]!.sha256) throw damaged(`holds "${readableName(name)}" with other content than the manifest says`);
  }
  for (const name of w.chunks) {
    const e = byName.get(name);
    if (!e || e.type !== 'file' || `${chunksPrefixOf(name)}${e.sha256}` !== name) throw damaged(`lacks chunk ${path.basename(name)}, or holds it damaged`);
  }
}

function chunksPrefixOf(name: string): string {
  return name.slice(0, name.lastIndexOf('/') + 1);
}

/**
 * Places the tree: folders first, then files (moved from the parts, or assembled from chunks),
 * then symlinks, then the folders' modes and times, deepest first.
 */
async function place(m: Manifest, root: string, entries: readonly CatalogEntry[], found: ReadonlyMap<string, string>, allowOutside: boolean): Promise<ExtractedEntry[]> {
  const results: ExtractedEntry[] = [];
  const dirs: { abs: string; e: CatalogEntry }[] = [];
  const made = new Set<string>();
  const target = (e: CatalogEntry): { abs: string; segments: string[]; name: string } => {
    const name = entryName(e);
    const segments = splitName(name, e.type === 'directory', maxPathBytes);
    if (segments.length === 0) throw new GlacierError('corrupt', `manifest of ${m.id} is invalid: an entry has an empty path`);
    return { abs: path.join(root, ...segments), segments, name };
  };
  const parents = async (segments: readonly string[], upTo: number): Promise<void> => {
    for (let i = 1; i <= upTo; i++) {
      const rel = segments.slice(0, i).join('/');
      if (made.has(rel)) continue;
      await fs.mkdir(fsPath(path.join(root, ...segments.slice(0, i))), { mode: 0o700 }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
        throw new GlacierError('corrupt', `manifest of ${m.id} is invalid: "${readableName(rel)}" is both a folder and a file`);
      });
      made.add(rel);
    }
  };
  for (const e of entries) {
    if (e.type !== 'directory') continue;
    const t = target(e);
    await parents(t.segments, t.segments.length);
    dirs.push({ abs: t.abs, e });
    results.push({ path: t.name, type: 'directory', size: 0, mtime: e.mtime, mode: e.mode & 0o777 });
  }
  for (const e of entries) {
    if (e.type !== 'file') continue;
    const t = target(e);
    await parents(t.segments, t.segments.length - 1);
    const taken = (err: NodeJS.ErrnoException): never => {
      if (err.code === 'EEXIST' || err.code === 'ENOTEMPTY' || err.code === 'EISDIR') throw new GlacierError('corrupt', `manifest of ${m.id} is invalid: it lists "${readableName(t.name)}" twice`);
      throw err;
    };
    if (e.chunks) {
      const sha256 = assemble(t.abs, e, found);
      if (sha256 !== e.sha256) throw new GlacierError('corrupt', `"${readableName(t.name)}" does not match the sha256 in the manifest once assembled from its chunks`);
    } else {
      const member = e.at === undefined ? t.name : entryName({ path: e.at, pathBytes: e.atBytes });
      const from = found.get(`${e.in ?? m.id}\0${member}`);
      if (from === undefined) throw new GlacierError('corrupt', `archive ${e.in ?? m.id} lacks "${readableName(member)}"`);
      // A hard link, not a move: the parts folder goes as a whole, and a link never replaces anything.
      await fs.link(fsPath(from), fsPath(t.abs)).catch(taken);
      await fs.utimes(fsPath(t.abs), e.mtime / 1000, e.mtime / 1000);
    }
    results.push({ path: t.name, type: 'file', size: e.size, mtime: e.mtime, mode: e.mode & 0o777, sha256: e.sha256! });
  }
  for (const e of entries) {
    if (e.type !== 'symlink') continue;
    const t = target(e);
    const link = e.linkTargetBytes === undefined ? (e.linkTarget ?? '') : fromBytes(Buffer.from(e.linkTargetBytes, 'base64'));
    checkLinkTarget(t.name, link, t.segments, maxPathBytes, allowOutside);
    await parents(t.segments, t.segments.length - 1);
    await fs.symlink(fsPath(link), fsPath(t.abs)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'EEXIST') throw new GlacierError('corrupt', `manifest of ${m.id} is invalid: it lists "${readableName(t.name)}" twice`);
      throw err;
    });
    await fs.lutimes(fsPath(t.abs), e.mtime / 1000, e.mtime / 1000).catch(() => undefined);
    results.push({ path: t.name, type: 'symlink', size: 0, mtime: e.mtime, mode: e.mode & 0o777, linkTarget: link });
  }
  dirs.sort((a, b) => b.abs.length - a.abs.length);
  for (const { abs, e } of dirs) {
    await fs.chmod(fsPath(abs), e.mode & 0o777);
    await fs.utimes(fsPath(abs), e.mtime / 1000, e.mtime / 1000);
  }
  return results;
}

/** Writes a chunked file from its chunk members (each checked when extracted); returns its sha256. */
function assemble(abs: string, e: CatalogEntry, found: ReadonlyMap<string, string>): string {
  const out = openSync(fsPath(abs), openFlags, 0o600);
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  try {
    for (const [chunk, length, archive] of e.chunks!) {
      const from = found.get(`${archive}\0${chunkMember(chunk)}`);
      if (from === undefined) throw new GlacierError('corrupt', `archive ${archive} lacks chunk ${chunk}`);
      const fd = openSync(from, 'r');
      try {
        let done = 0;
        for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
          hash.update(buf.subarray(0, n));
          for (let off = 0; off < n; ) off += writeSync(out, buf, off, n - off);
          done += n;
        }
        if (done !== length) throw new GlacierError('corrupt', `chunk ${chunk} of archive ${archive} is ${done} bytes, not ${length}`);
      } finally {
        closeSync(fd);
      }
    }
    fchmodSync(out, e.mode & 0o777);
    futimesSync(out, e.mtime / 1000, e.mtime / 1000);
  } finally {
    closeSync(out);
  }
  return hash.digest('hex');
}
