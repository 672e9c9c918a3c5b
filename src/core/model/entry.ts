/**
 * What an archive holds, entry by entry, as its manifest lists it: the words the tar writer, the
 * catalog, the restore jobs and the views share (format.md "Manifest").
 */
export type EntryType = 'file' | 'directory' | 'symlink';

export interface ManifestEntry {
  /** The archive path; readable (see rawNames.ts) when it is not UTF-8. */
  path: string;
  /** Base64 of the path's bytes, only when they are not valid UTF-8: then these identify the entry. */
  pathBytes?: string;
  type: EntryType;
  size: number;
  /** Modification time, milliseconds since the epoch (the tar header keeps whole seconds). */
  mtime: number;
  mode: number;
  sha256?: string;
  /** Readable, as `path` is. */
  linkTarget?: string;
  /** Base64 of the target's bytes, only when they are not valid UTF-8. */
  linkTargetBytes?: string;
}
