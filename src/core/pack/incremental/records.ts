/**
 * The `.glacier-backup/` records of a format version 2 archive (docs/format.md, "Chains", "Big files by
 * chunks"): what the restore-by-hand procedure reads with sh and coreutils. Pure text builders.
 */
import { chainLimits } from '../../model/chain';
import { toBytes } from '../../model/rawNames';
import { defaultChunking } from './chunker';

/** The records' folder at the tar root; a source root of that name is stored as `.glacier-backup~2`. */
export const recordsDir = '.glacier-backup';
export const chunksDir = `${recordsDir}/chunks`;
export const recipesPath = `${recordsDir}/recipes`;
export const sumsPath = `${recordsDir}/SHA256SUMS`;
/** Files of at least this size are chunked (a parameter for tests). */
export const defaultChunkThreshold = 64 * 1024 * 1024;

/** The member holding a chunk's bytes. */
export function chunkMember(sha256: string): string {
  return `${chunksDir}/${sha256}`;
}

/** Bigger files are stored whole: their chunks could pass the manifest's bound per file. */
export const maxChunkedFileSize = chainLimits.maxChunksPerFile * defaultChunking.min;

/**
 * Whether a file can be stored as a recipe: big enough (and not too big), and its path readable line by line by
 * `while IFS= read -r p` and safe in `"$p.gb-part"` (UTF-8, no newline or other control character).
 */
export function isChunkable(path: string, size: number, threshold = defaultChunkThreshold): boolean {
  return size >= threshold && size <= maxChunkedFileSize && !/[\x00-\x1f\x7f]/.test(path) && toBytes(path).toString('utf8') === path;
}

/** A recipe member's text: its chunks' names in order, one a line. */
export function recipeText(chunkHashes: readonly string[]): Buffer {
  return Buffer.from(chunkHashes.map((h) => `${h}\n`).join(''));
}

/** Parses a recipe (for a reader that rebuilds the file itself); throws if it is not one. */
export function parseRecipe(text: Buffer): string[] {
  const s = text.toString('latin1');
  if (!/^([0-9a-f]{64}\n)*$/.test(s)) throw new Error('not a recipe');
  return s.split('\n').slice(0, -1);
}

/** `.glacier-backup/recipes`: the recipe files' paths from the tar root, one a line (isChunkable paths only). */
export function recipesList(paths: Iterable<string>): Buffer {
  let out = '';
  for (const p of paths) {
    if (/[\x00-\x1f\x7f]/.test(p)) throw new Error(`a recipe path cannot hold a control character: ${JSON.stringify(p)}`);
    out += `${p}\n`;
  }
  return Buffer.from(out);
}

/**
 * One line of `sha256sum` output for a raw path: `<hex>  <name>\n`. As coreutils writes it, a
 * name with a backslash or a newline starts the line with a backslash and has them as `\\` and `\n`.
 */
export function sumsLine(sha256: string, path: string): Buffer {
  const name = toBytes(path);
  if (!name.includes(0x5c) && !name.includes(0x0a)) return Buffer.concat([Buffer.from(`${sha256}  `), name, newline]);
  const escaped: number[] = [];
  for (const b of name) {
    if (b === 0x5c) escaped.push(0x5c, 0x5c);
    else if (b === 0x0a) escaped.push(0x5c, 0x6e);
    else escaped.push(b);
  }
  return Buffer.concat([Buffer.from(`\\${sha256}  `), Buffer.from(escaped), newline]);
}

/** `.glacier-backup/SHA256SUMS`: every regular file of the snapshot with its SHA-256. */
export function sumsFile(files: Iterable<{ path: string; sha256: string }>): Buffer {
  const lines: Buffer[] = [];
  for (const f of files) lines.push(sumsLine(f.sha256, f.path));
  return Buffer.concat(lines);
}

const newline = Buffer.from('\n');
