/**
 * Restores a "foreign" archive: one object made outside this tool by the old seed scripts,
 * `tar -C DIR -cf - . | gpg --symmetric` (or `tar -cf - somedir | gpg -c`, or `gpg -e` to keys),
 * uploaded as is, with no manifest. HEAD (refuse if still in Glacier) → GET → OpenPGP decrypt
 * (gpg's default ZIP/ZLIB compression is undone by openpgp.js) → safe untar into a staging folder
 * next to the destination → read the decrypted stream to its end → move into place.
 *
 * Integrity: there is no manifest, so nothing records the archive's size, its sha256 or the
 * files it should hold. Integrity rests on the OpenPGP MDC alone (SEIPD v1's SHA-1 check over the
 * whole plaintext, verified at the very end of the message): the staging folder is published only
 * after the decrypted stream has been read to its end and that check has passed. A message
 * without integrity protection (old SED packets) is refused by the decryption layer. That proves
 * the object is what someone holding the passphrase or key encrypted, not which files it ought
 * to contain.
 *
 * Safety is that of `download()`: the tar is hostile (see safeExtract: nothing escapes the staging
 * folder, links out of it only with allowOutsideLinks, no hardlinks/devices/FIFOs, setuid dropped);
 * nothing appears at the destination unless every step passed; on any failure or cancel the
 * staging folder is removed; an existing folder is never overwritten: the result goes to a new
 * folder `<dest>/<basename of key without .tar.gpg/.gpg/.tar>-<YYYY-MM-DD>` (-2, -3… if taken).
 * Errors are one line and never contain the passphrase.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Decryption } from '../crypto/openpgp';
import { GlacierError, throwIfAborted } from '../errors';
import type { ExtractedEntry } from '../pack/safeExtract';
import type { ArchiveStore } from '../store/archiveStore';
import { describeState } from '../model/glacierState';
import { subsetFilter } from './download';
import { checkFolderName, fetchDecryptUnpack, folderNamePart, freeName, publish } from './unpack';
import { removeStaleStaging, withStaging } from './staging';

export interface ForeignDownloadProgress {
  bytesDownloaded: number;
  bytesTotal: number;
  entries: number;
}

export interface ForeignDownloadRequest {
  /** The store rooted at the bucket (no prefix): the key is the object's whole key. */
  store: ArchiveStore;
  /** The bucket, for messages and the restore command they suggest. */
  bucket: string;
  /** The object's key, such as `old/backup-2024.tar.gpg`. */
  key: string;
  decryption: Decryption;
  /** Folder in which the new folder is created. */
  dest: string;
  /** Name of the new folder; default `<basename of key without .tar.gpg/.gpg/.tar>-<YYYY-MM-DD>`. */
  folderName?: string;
  /** Subset: archive paths (a folder includes what is inside it) or globs. */
  only?: readonly string[];
  /** Recreate symlinks that point outside the restored folder. They are never followed while restoring. */
  allowOutsideLinks?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: ForeignDownloadProgress) => void;
}

export interface ForeignDownloadResult {
  path: string;
  entries: ExtractedEntry[];
}

export async function downloadForeign(req: ForeignDownloadRequest): Promise<ForeignDownloadResult> {
  const { store, bucket, key, signal } = req;
  if (!bucket || !key) throw new GlacierError('usage', 'a foreign archive needs a bucket and a key');
  const what = `s3://${printable(bucket)}/${printable(key)}`;
  const folder = checkFolderName(req.folderName ?? defaultForeignFolderName(key));
  throwIfAborted(signal, 'restore');

  const head = await store.head(key, { signal, action: `check ${what}` });
  if (!head) throw new GlacierError('not-found', `${what} does not exist (or the bucket does not)`);
  const { storageClass, glacier: state } = head;
  if (state.state === 'archived') {
    throw new GlacierError('not-found', `${what} is in ${storageClass} and not restored: request a restore first (${restoreCommand(bucket, key)})`);
  }
  if (state.state === 'restoring') {
    throw new GlacierError('not-found', `${what} is still being restored from ${storageClass}; try again when it is ${describeState({ state: 'restored' })}`);
  }
  const filter = subsetFilter(req.only);

  const dest = path.resolve(req.dest);
  await fs.mkdir(dest, { recursive: true });
  await removeStaleStaging(dest);
  return withStaging(dest, 'foreign', async (staging) => {
    const { entries } = await fetchDecryptUnpack({
      store,
      key,
      ...(head.etag ? { etag: head.etag } : {}),
      decryption: req.decryption,
      staging,
      filter,
      allowOutsideLinks: req.allowOutsideLinks,
      signal,
      what,
      notRestored: `${what} is not restored: request a restore first (${restoreCommand(bucket, key)})`,
      onProgress: (p) => req.onProgress?.({ ...p, bytesTotal: head.size }),
    });
    if (req.only?.length && entries.length === 0) {
      throw new GlacierError('usage', `nothing in ${what} matches ${req.only.map(printable).join(', ')}`);
    }
    const final = await freeName(dest, folder);
    await publish(staging, final);
    return { path: final, entries };
  });
}

/** `<basename of key without .tar.gpg/.gpg/.tar>-<YYYY-MM-DD>` (today, local time), fit for a folder name. */
export function defaultForeignFolderName(key: string, today = new Date()): string {
  const base = key.replace(/\/+$/, '').split('/').pop() ?? '';
  const stem = base.replace(/\.tar\.gpg$|\.gpg$|\.tar$/i, '');
  const clean = folderNamePart(stem);
  const date = `${today.getFullYear()}-${String(today.getMonth() + 1).padStart(2, '0')}-${String(today.getDate()).padStart(2, '0')}`;
  return `${clean || 'restore'}-${date}`;
}

/** The AWS CLI command that requests a restore, quoted for a POSIX shell. */
function restoreCommand(bucket: string, key: string): string {
  return `aws s3api restore-object --bucket ${shellQuote(bucket)} --key ${shellQuote(key)} --restore-request '{"Days":7,"GlacierJobParameters":{"Tier":"Standard"}}'`;
}

function shellQuote(s: string): string {
  const shown = printable(s);
  return /^[A-Za-z0-9._\-/+=:@,]+$/.test(shown) ? shown : `'${shown.replace(/'/g, `'\\''`)}'`;
}

/** A bucket, key or path fit for a one-line message: control and invisible characters escaped. */
function printable(s: string): string {
  const escaped = s
    .slice(0, 400)
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return s.length > 400 ? `${escaped}…` : escaped;
}
