/** Builds source trees for tests and compares restored trees with them. */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, symlinkSync, utimesSync, writeFileSync, chmodSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export function tempDir(prefix = 'gb-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const longName = `${'a-rather-long-file-name-that-keeps-going-'.repeat(4)}end.txt`; // 160+ characters

/** A tree with the awkward cases: spaces, unicode, long names, empty file and folder, symlinks. */
export function makeTree(root: string): void {
  mkdirSync(path.join(root, 'docs', 'sub dir with spaces'), { recursive: true });
  mkdirSync(path.join(root, 'empty folder'));
  mkdirSync(path.join(root, 'node_modules', 'pkg'), { recursive: true });
  writeFileSync(path.join(root, 'node_modules', 'pkg', 'index.js'), 'excluded');
  writeFileSync(path.join(root, 'docs', 'readme.md'), '# hello\n');
  writeFileSync(path.join(root, 'docs', 'sub dir with spaces', 'file with spaces.txt'), 'spaces\n');
  writeFileSync(path.join(root, 'docs', 'Ünïcödé — 日本語 ✓.txt'), 'unicode\n');
  writeFileSync(path.join(root, 'docs', longName), 'long\n');
  mkdirSync(path.join(root, 'deep', 'x'.repeat(60), 'y'.repeat(60), 'z'.repeat(60)), { recursive: true });
  writeFileSync(path.join(root, 'deep', 'x'.repeat(60), 'y'.repeat(60), 'z'.repeat(60), 'deep file.bin'), randomBytes(3000));
  writeFileSync(path.join(root, 'empty.txt'), '');
  writeFileSync(path.join(root, 'script.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(path.join(root, 'script.sh'), 0o750);
  writeFileSync(path.join(root, 'random.bin'), randomBytes(1_500_000));
  symlinkSync('docs/readme.md', path.join(root, 'link-to-readme'));
  symlinkSync('/nonexistent/target', path.join(root, 'dangling-link'));
  utimesSync(path.join(root, 'docs', 'readme.md'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
}

export interface TreeEntry {
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  mtime: number;
  sha256?: string;
  target?: string;
}

/** Path → type, mode, whole-second mtime, content hash / link target; skips excluded names. */
export function snapshot(root: string, exclude: (rel: string) => boolean = () => false): Map<string, TreeEntry> {
  const out = new Map<string, TreeEntry>();
  const visit = (dir: string, rel: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      if (exclude(r)) continue;
      const abs = path.join(dir, name);
      const st = lstatSync(abs);
      const base = { mode: st.mode & 0o7777, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isSymbolicLink()) out.set(r, { type: 'symlink', mode: 0, mtime: 0, target: readlinkSync(abs) });
      else if (st.isDirectory()) {
        out.set(r, { type: 'dir', ...base });
        visit(abs, r);
      } else out.set(r, { type: 'file', ...base, sha256: createHash('sha256').update(readFileSync(abs)).digest('hex') });
    }
  };
  visit(root, '');
  return out;
}

/** A large file of non-repeating, reproducible content (the same `salt`, the same bytes). */
export function writePatternedFile(file: string, bytes: number, salt = 0): void {
  // An AES-CTR keystream keyed by the salt: incompressible, so compression cannot shrink it and
  // upload sizes, parts and timings stay what the tests expect.
  const key = Buffer.alloc(16);
  key.writeUInt32LE(salt >>> 0, 0);
  const data = createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(bytes));
  writeFileSync(file, data);
}
