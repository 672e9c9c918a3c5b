/**
 * The restore pipeline shared by `download` (our archives) and `downloadForeign` (tar|gpg
 * objects): ranged, resumable GET → sha256 and size → OpenPGP streaming decrypt → safe untar into
 * a staging folder → the rest of the message read to its end, so the integrity check (MDC) at the
 * very end has passed when this resolves. Publishing the staging folder is the caller's step.
 * With `staging: null` the sink writes nothing: entries are validated and hashed only (verify).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decryptStream, streamDecryptError, type Decryption } from '../crypto/openpgp';
import { GlacierError, oneLine, throwIfAborted } from '../errors';
import { extractTar, type ExtractedEntry } from '../pack/safeExtract';
import { localFailure } from '../pack/localError';
import type { ArchiveStore } from '../store/archiveStore';

export interface UnpackRequest {
  store: ArchiveStore;
  /** Relative to the store's root. */
  key: string;
  /** The ETag seen by HEAD: the object read must be that one (If-Match). */
  etag?: string;
  decryption: Decryption;
  /** The folder to unpack into, or null to check only (nothing is written anywhere). */
  staging: string | null;
  filter: (archivePath: string) => boolean;
  allowOutsideLinks?: boolean;
  signal?: AbortSignal;
  /** How messages name the object. */
  what: string;
  /** The message when the store says the object is not restored. */
  notRestored: string;
  onProgress?: (p: { bytesDownloaded: number; entries: number }) => void;
  onResume?: (offset: number) => void;
}

export interface UnpackResult {
  entries: ExtractedEntry[];
  /** Size and sha256 of the ciphertext as read. */
  size: number;
  sha256: string;
}

/** The smallest piece of downloaded bytes passed on, but the last. */
const joinedSize = 256 * 1024;

export async function fetchDecryptUnpack(req: UnpackRequest): Promise<UnpackResult> {
  const { signal, what } = req;
  // Opening errors (not restored, replaced, unreachable) surface before any decryption.
  const { body } = await req.store
    .open(req.key, { what, signal, ...(req.etag ? { etag: req.etag } : {}), ...(req.onResume ? { onResume: req.onResume } : {}) })
    .catch((err: unknown) => {
      throw err instanceof GlacierError && err.code === 'not-restored' ? new GlacierError('not-found', req.notRestored, { cause: err }) : err;
    });
  const first = await body.next();
  const hash = createHash('sha256');
  const progress = { bytesDownloaded: 0, entries: 0 };
  // The network gives pieces of a few KiB; each costs a pass through every stage below (hash,
  // decryption, tar, a file write), so they are joined into pieces of at least `joinedSize`.
  const counted = (async function* () {
    if (first.done) return;
    const parts: Uint8Array[] = [];
    let held = 0;
    const joined = (): Uint8Array => {
      const out = parts.length === 1 ? parts[0]! : Buffer.concat(parts, held);
      parts.length = 0;
      held = 0;
      hash.update(out);
      progress.bytesDownloaded += out.byteLength;
      req.onProgress?.({ ...progress });
      return out;
    };
    for (let r: IteratorResult<Uint8Array> = first; !r.done; r = await body.next()) {
      parts.push(r.value);
      held += r.value.byteLength;
      if (held >= joinedSize) yield joined();
    }
    if (held > 0) yield joined();
  })();
  // A wrong passphrase or key fails here, before any plaintext.
  const plain = await decryptStream(counted, req.decryption, what, signal);
  const plainIter = plain[Symbol.asyncIterator]();
  // The extractor may stop at the tar's end blocks; the rest must still be read, because the
  // OpenPGP integrity check happens at the very end of the message.
  const shared: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => ({ next: () => plainIter.next() }) };
  try {
    const entries = await extractTar(shared, {
      root: req.staging ?? '.',
      write: req.staging !== null,
      filter: req.filter,
      allowOutsideSymlinks: req.allowOutsideLinks ?? false,
      signal,
      onProgress: (p) => {
        progress.entries = p.entries;
      },
    });
    for (let r = await plainIter.next(); !r.done; r = await plainIter.next()) throwIfAborted(signal, 'restore');
    return { entries, size: progress.bytesDownloaded, sha256: hash.digest('hex') };
  } catch (err) {
    await body.return(undefined);
    if (signal?.aborted) throw new GlacierError('cancelled', 'restore cancelled');
    if (err instanceof GlacierError && progress.entries === 0 && /^the archive is not a valid tar stream/.test(err.message)) {
      // The session key passed its check, so the plaintext is what the message holds: not a tar.
      throw new GlacierError('corrupt', `${what} does not hold a tar archive (${err.message})`, { cause: err });
    }
    // A file-system error says nothing about the archive: it is named for what it is.
    throw localFailure(err, req.staging ?? what, req.staging) ?? streamDecryptError(err, what);
  }
}

/** Moves the checked staging folder to `final`; a local failure is named for what it is. */
export async function publish(staging: string, final: string): Promise<void> {
  await fs.rename(staging, final).catch((err: unknown) => {
    throw localFailure(err, final, staging) ?? err;
  });
}

/**
 * The name as is if it names one new folder directly inside the destination: not empty, not "."
 * or "..", no separator, NUL or control character, at most 200 bytes. Else a 'usage' error.
 */
export function checkFolderName(name: string): string {
  if (name === '' || name === '.' || name === '..' || /[/\\\u0000-\u001f\u007f]/.test(name) || Buffer.byteLength(name) > 200) {
    throw new GlacierError('usage', `"${oneLine(JSON.stringify(name).slice(1, -1))}" is not a folder name`);
  }
  return name;
}

/**
 * Text (a label, an object's name) made fit for part of a folder name: separators, control and
 * reserved characters replaced, leading and trailing dots and spaces dropped, at most 80
 * characters and 160 bytes. May be empty.
 */
export function folderNamePart(text: string): string {
  const chars = Array.from(text.replace(/[\u0000-\u001f\u007f-\u009f/\\:*?"<>|]+/g, '_').replace(/^[.\s]+|[.\s]+$/g, '')).slice(0, 80);
  while (Buffer.byteLength(chars.join('')) > 160) chars.pop();
  return chars.join('');
}

/** `dir/name`, or `dir/name-2`, `-3`… : the first that does not exist, always a direct child of `dir`. Never an existing folder. */
export async function freeName(dir: string, name: string): Promise<string> {
  checkFolderName(name);
  for (let i = 1; ; i++) {
    const candidate = path.join(dir, i === 1 ? name : `${name}-${i}`);
    try {
      await fs.lstat(candidate);
    } catch {
      if (path.dirname(candidate) !== path.resolve(dir)) throw new GlacierError('usage', `"${name}" is not a folder name`);
      return candidate;
    }
  }
}
