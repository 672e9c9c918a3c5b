/** Trees whose file names are not UTF-8, made and compared as bytes (Node's string names would lose them). */
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const join = (dir: Buffer, name: Buffer): Buffer => Buffer.concat([dir, b('/'), name]);

/**
 * Under `root`: Latin-1 "café.txt", a name of bytes that are no UTF-8 at all, an encoded
 * surrogate, a valid U+FFFD, a Latin-1 folder with a file inside, and a symlink whose name and
 * target are Latin-1. Returns the raw names (relative, as bytes) it made.
 */
export function makeRawTree(root: string): Buffer[] {
  const r = Buffer.from(root);
  const files: [string, string][] = [
    ['caf\xe9.txt', 'latin-1 name\n'],
    ['\xff\xfe\x80.bin', 'no utf-8 at all\n'],
    ['surrogate-\xed\xa0\x80', 'an encoded surrogate\n'],
    ['replacement-\xef\xbf\xbd', 'a valid U+FFFD\n'],
  ];
  for (const [name, body] of files) writeFileSync(join(r, b(name)), body);
  mkdirSync(join(r, b('dossier-\xe9t\xe9')));
  writeFileSync(join(r, b('dossier-\xe9t\xe9/r\xe9sum\xe9.txt')), 'inside a latin-1 folder\n');
  symlinkSync(b('caf\xe9.txt'), join(r, b('lien-\xe9')));
  return [...files.map(([n]) => b(n)), b('dossier-\xe9t\xe9'), b('dossier-\xe9t\xe9/r\xe9sum\xe9.txt'), b('lien-\xe9')];
}

/** Relative path bytes (hex) → type and sha256 or link target bytes (hex), for every entry below `root`. */
export function rawSnapshot(root: string | Buffer): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (dir: Buffer, rel: Buffer | undefined): void => {
    for (const name of readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare)) {
      const r = rel ? join(rel, name) : name;
      const abs = join(dir, name);
      const st = lstatSync(abs);
      if (st.isSymbolicLink()) out.set(r.toString('hex'), `symlink ${readlinkSync(abs, { encoding: 'buffer' }).toString('hex')}`);
      else if (st.isDirectory()) {
        out.set(r.toString('hex'), 'directory');
        visit(abs, r);
      } else out.set(r.toString('hex'), `file ${createHash('sha256').update(readFileSync(abs)).digest('hex')}`);
    }
  };
  visit(typeof root === 'string' ? Buffer.from(root) : root, undefined);
  return out;
}
