/**
 * Manifest format v1 (docs/format.md): what an archive holds, readable without a Glacier restore.
 * Manifests read back from the bucket are untrusted: parseManifest checks every field's shape.
 */
import { createHash } from 'node:crypto';
import type { StorageClass } from '../config';
import type { ManifestCompression } from '../crypto/compress';
import { GlacierError } from '../errors';
import type { ManifestEntry } from '../model/entry';
import type { ChainInfo, EntryPlacement } from '../model/chain';
import type { SourceEntry, SourceRoot } from '../pack/walk';
import { entryProblem, headerProblem, isObject, manifestLimits, maxPlainEntryBytes } from './manifestCheck';
import { manifestVersion2, V2EntryChecker, v2HeaderProblem } from './manifestV2';
import { ManifestScanError, ManifestScanner } from './manifestScan';

export const manifestFormat = 'glacier-backup/manifest';
export const manifestVersion = 1;

/** An entry as a manifest of either version records it: version 2 adds its placement in the chain. */
export type CatalogEntry = ManifestEntry & EntryPlacement;

export interface Manifest {
  format: typeof manifestFormat;
  /** 1: a standalone archive; 2: a snapshot of a chain (docs/format.md, "Chains"), whose v2 fields follow. */
  version: 1 | 2;
  id: string;
  /** ISO 8601, UTC. */
  created: string;
  label: string;
  host: string;
  sources: SourceRoot[];
  /** sha256 over the walked metadata (paths, types, sizes, mtimes, modes, link targets). */
  fingerprint: string;
  archive: {
    key: string;
    tarSize: number;
    size: number;
    sha256: string;
    storageClass: StorageClass;
  };
  encryption: { mode: 'passphrase' | 'public-key'; recipients: string[] };
  /**
   * How the archive and this manifest were compressed (docs/format.md); absent in manifests
   * written before compression, whose archives are not compressed. Readers do not need it: the
   * archive's packets say.
   */
  compression?: ManifestCompression;
  fileCount: number;
  fileBytes: number;
  entries: CatalogEntry[];
  skipped: { path: string; reason: string }[];
  changed: string[];
  /** Present when `check --repair` rebuilt this manifest from the archive itself (docs/format.md). */
  rebuilt?: true;
  /** Version 2: the chain this snapshot belongs to. */
  chain?: ChainInfo;
  /** Version 2: the archives a whole restore reads with `tar -x -G`, oldest first, ending with this one. */
  needs?: string[];
  /** Version 2: folders this snapshot's archive renames, [from, to] from the tar root. */
  renames?: [string, string][];
  /** Version 2: what the backup did, compared with the previous snapshot. */
  added?: number;
  changedFiles?: number;
  removed?: number;
  uploadedBytes?: number;
}

/** The archives a whole restore of `m` reads, oldest first: its own for version 1. */
export function archivesNeeded(m: Pick<Manifest, 'id' | 'needs'>): string[] {
  return m.needs ?? [m.id];
}

/** A manifest as a backup writes it: the entries as the tar writer recorded them (ManifestEntryList). */
export interface NewManifest extends Omit<Manifest, 'entries'> {
  entries: Iterable<CatalogEntry> & { readonly length: number };
}

/**
 * The manifest's JSON, the very bytes JSON.stringify(m) would give (keys in the object's order),
 * as pieces of about `pieceChars` characters, so that a manifest of many files is never one
 * string. Iterates the entries once per call.
 */
export function* manifestJson(m: NewManifest | Manifest, pieceChars = 1 << 16): Generator<string> {
  let piece = '{';
  let first = true;
  for (const [key, value] of Object.entries(m)) {
    if (value === undefined || typeof value === 'function') continue;
    piece += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (key !== 'entries') {
      piece += JSON.stringify(value);
      continue;
    }
    piece += '[';
    let firstEntry = true;
    for (const e of value as Iterable<CatalogEntry>) {
      piece += `${firstEntry ? '' : ','}${JSON.stringify(e)}`;
      firstEntry = false;
      if (piece.length >= pieceChars) {
        yield piece;
        piece = '';
      }
    }
    piece += ']';
  }
  yield `${piece}}`;
}

/** Identifies "the same sources": this host and the same set of selected absolute paths. */
export function sourcesKey(host: string, roots: readonly { path: string }[]): string {
  return JSON.stringify([host, roots.map((r) => r.path).sort()]);
}

export function contentFingerprint(roots: readonly SourceRoot[], entries: Iterable<SourceEntry>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(roots.map((r) => [r.path, r.name, r.type])));
  // Hashed in batches of about 64 KiB: the same bytes as one update per entry, in fewer calls.
  // JSON.stringify writes a byte that is not UTF-8 (a lone surrogate, rawNames.ts) as \udcXX.
  let batch = '';
  for (const e of entries) {
    batch += `\n${JSON.stringify([e.path, e.type, e.size, e.mtimeMs, e.mode, e.linkTarget ?? null])}`;
    if (batch.length >= 1 << 16) {
      h.update(batch);
      batch = '';
    }
  }
  h.update(batch);
  return h.digest('hex');
}

/** Parses and validates an untrusted manifest held whole (tests, small inputs); see parseManifestStream. */
export function parseManifest(bytes: Uint8Array, expectedId: string): Manifest {
  const reader = new ManifestReader(expectedId);
  reader.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return reader.end();
}

/**
 * Parses and validates an untrusted manifest as its plaintext arrives, within manifestLimits:
 * refused as soon as a limit is passed (the source is then closed, not read on), and never held
 * whole as bytes or text. Any deviation is reported as corrupt.
 */
export async function parseManifestStream(plaintext: AsyncIterable<Uint8Array>, expectedId: string): Promise<Manifest> {
  const reader = new ManifestReader(expectedId);
  for await (const chunk of plaintext) reader.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return reader.end();
}

class ManifestReader {
  private readonly entries: CatalogEntry[] = [];
  /** The first malformed entry's problem: reported after the format and version are known. */
  private entryProblem: string | undefined;
  private readonly scanner: ManifestScanner;

  constructor(private readonly id: string) {
    this.scanner = new ManifestScanner(manifestLimits, (e, _i, bytes) => {
      // Only a chunk list (version 2) makes an entry large; checked against the header at the end.
      if (bytes > maxPlainEntryBytes && !(isObject(e) && Array.isArray(e.chunks))) this.entryProblem ??= `an entry is larger than ${maxPlainEntryBytes} bytes`;
      this.entryProblem ??= entryProblem(e);
      if (this.entryProblem === undefined) this.entries.push(e as CatalogEntry);
    });
  }

  push(chunk: Buffer): void {
    try {
      this.scanner.push(chunk);
    } catch (err) {
      throw this.named(err);
    }
  }

  end(): Manifest {
    let raw: unknown;
    try {
      raw = this.scanner.end().value;
    } catch (err) {
      throw this.named(err);
    }
    const m = raw as Record<string, unknown>;
    if (!isObject(m) || m.format !== manifestFormat) throw this.bad('not a glacier-backup manifest');
    if (m.version !== manifestVersion && m.version !== manifestVersion2) throw this.bad(`format version ${String(m.version)} is not supported by this version`);
    if (!Array.isArray(m.entries)) throw this.bad('"entries" is missing');
    // Read by the scanner, the array left here is empty: anything else was spelt so that it was not ("entr\u0069es").
    if (m.entries.length !== 0) throw this.bad('"entries" is malformed');
    if (this.entryProblem) throw this.bad(this.entryProblem);
    const problem = headerProblem(m, this.id) ?? (m.version === manifestVersion2 ? v2HeaderProblem(m) : undefined);
    if (problem) throw this.bad(problem);
    if (m.version === manifestVersion2) {
      const checker = new V2EntryChecker(m as { needs: string[] });
      for (const e of this.entries) {
        const why = checker.problem(e as unknown as Record<string, unknown>);
        if (why) throw this.bad(why);
      }
    } else if (this.entries.some((e) => e.in !== undefined || e.chunks !== undefined || e.at !== undefined)) {
      throw this.bad('an entry of version 1 names another archive');
    }
    m.entries = this.entries;
    if (!Array.isArray(m.skipped)) m.skipped = [];
    if (!Array.isArray(m.changed)) m.changed = [];
    return m as unknown as Manifest;
  }

  private bad(what: string): GlacierError {
    return new GlacierError('corrupt', `manifest of ${this.id} is invalid: ${what}`);
  }

  private named(err: unknown): unknown {
    if (!(err instanceof ManifestScanError)) return err;
    if (err.reason === 'json') return new GlacierError('corrupt', `manifest of ${this.id} is not valid JSON`);
    if (err.reason === 'too-large' || err.reason === 'too-many-entries') return new GlacierError('corrupt', `manifest of ${this.id} is refused: ${err.message} (the limit of this version)`);
    return this.bad(err.message);
  }
}
