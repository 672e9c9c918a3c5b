/**
 * What the tar records of a file where the file system has no POSIX owner or permissions
 * (Windows), and the archive's top-level name of a selected path. Pure functions of the stat and
 * an explicit `platform`, so the Windows rules are tested on any system.
 *
 * Guarantees: on Linux and macOS the mode is the file's own (`& 0o7777`) and the owner its uid
 * and gid, unchanged from before. On Windows, where Node reports folders as 0666 (no execute
 * bit: a Linux or macOS user could not enter them after `tar x`), folders are 0755, symlinks
 * 0777, files 0644, or 0444 when read-only; owner and group are 0. No execute bit is guessed from
 * a file's extension. Symlink targets are '/'-separated there too.
 */
import * as path from 'node:path';
import type { EntryType } from '../model/entry';

export function archiveMode(type: EntryType, mode: number, platform: NodeJS.Platform = process.platform): number {
  if (platform !== 'win32') return mode & 0o7777;
  if (type === 'directory') return 0o755;
  if (type === 'symlink') return 0o777;
  return mode & 0o200 ? 0o644 : 0o444;
}

export function archiveOwner(id: number, platform: NodeJS.Platform = process.platform): number {
  return platform === 'win32' ? 0 : id;
}

/**
 * The top-level name in the archive of a selected absolute path: its base name. A root has none:
 * a drive root (`C:\`, `\\?\C:\`) is named `C-drive`, any other (`/`) `root`. Never holds a
 * separator or a colon.
 */
export function rootName(abs: string, p: path.PlatformPath = path): string {
  const base = p.basename(abs);
  if (base !== '' && base !== p.sep && !base.includes(':')) return base;
  const drive = /([A-Za-z]):[\\/]*$/.exec(abs);
  return drive ? `${drive[1]!.toUpperCase()}-drive` : 'root';
}

/**
 * A symlink's target as the tar records it: as read on Linux and macOS; on Windows with `/` for
 * `\` and without the `\\?\` prefix of a junction's target (`C:/work/x`, an absolute target that a
 * restore refuses unless outside links are allowed).
 */
export function archiveLinkTarget(target: string, platform: NodeJS.Platform = process.platform): string {
  if (platform !== 'win32') return target;
  return target.replace(/^\\\\\?\\/, '').replace(/\\/g, '/');
}
