/**
 * Encodes the tar header of one entry: ustar, or a PAX extended header when the names do not fit
 * ustar. Pure functions over a walked entry; tarWriter.ts streams them.
 */
import type { SourceEntry } from './walk';
import { isWellFormed, toBytes } from '../model/rawNames';

/** Where a header's bytes go (the tar writer's chunk writer). */
export interface HeaderSink {
  write(bytes: Buffer): void;
  zeros(count: number): void;
}

const maxOctal6 = 0o777777;

export function padding(size: number): number {
  return (512 - (size % 512)) % 512;
}

export interface Header {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'pax-header';
  linkname: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtimeMs: number;
  /**
   * A `GNU.dumpdir` PAX record (format version 2, incremental/dumpdir.ts): a directory's children,
   * NUL-separated. Its presence forces a PAX header.
   */
  dumpdir?: Buffer;
}

const typeflags: Record<Header['type'], number> = { file: 0x30, symlink: 0x32, directory: 0x35, 'pax-header': 0x78 };
const block = Buffer.alloc(512);

/** The header of a walked entry as the walk saw it (a file's is then updated from what is read). */
export function headerFor(e: SourceEntry): Header {
  const dir = e.type === 'directory';
  return {
    name: dir ? `${e.path}/` : e.path,
    type: e.type,
    linkname: e.type === 'symlink' ? (e.linkTarget ?? '') : '',
    mode: e.mode,
    uid: e.uid <= maxOctal6 ? e.uid : 0,
    gid: e.gid <= maxOctal6 ? e.gid : 0,
    size: e.type === 'file' ? e.size : 0,
    mtimeMs: e.mtimeMs,
  };
}

/** How a header is written: as ustar (its name fields), or with PAX records; and its length. */
export interface HeaderPlan {
  names?: UstarNames;
  pax?: Buffer;
  length: number;
}

/** Depends on the names (and a dumpdir record) only: a header's size, mode and times can change after planning. */
export function planHeader(h: Header): HeaderPlan {
  const names = h.dumpdir ? undefined : ustarNames(h);
  if (names) return { names, length: 512 };
  const pax = paxRecords(h);
  return { pax, length: 1024 + pax.length + padding(pax.length) };
}

/**
 * A ustar header, or when the name does not fit (over 100 bytes that cannot be split at a "/"
 * into a 155-byte prefix, or not ASCII) or the link target is over 100 bytes or not UTF-8, a PAX
 * extended header carrying them. For UTF-8 names the bytes are those tar-stream 3 writes for the
 * same entry; other names are written as their bytes (paxRecords).
 */
export function writeHeader(out: HeaderSink, h: Header, plan = planHeader(h)): void {
  if (!plan.pax) {
    encodeUstar(h, block, plan.names);
    out.write(block);
    return;
  }
  const pax = plan.pax;
  const outer: Header = { ...h, name: 'PaxHeader', linkname: h.linkname && 'PaxHeader' };
  encodeUstar({ ...outer, type: 'pax-header', size: pax.length }, block);
  out.write(block);
  out.write(pax);
  out.zeros(padding(pax.length));
  encodeUstar(outer, block);
  out.write(block);
}

/**
 * The PAX records of a header: `path`, and `linkpath` for a link, as their bytes. When either is
 * not valid UTF-8, a leading `hdrcharset=BINARY` says so (POSIX; Python's tarfile writes it the
 * same way). GNU tar 1.34 warns that it ignores that keyword and restores the same bytes.
 */
function paxRecords(h: Header): Buffer {
  const records = [paxRecord('path', toBytes(h.name))];
  if (h.linkname) records.push(paxRecord('linkpath', toBytes(h.linkname)));
  if (!isWellFormed(h.name) || !isWellFormed(h.linkname)) records.unshift(paxRecord('hdrcharset', Buffer.from('BINARY')));
  if (h.dumpdir) records.push(paxRecord('GNU.dumpdir', h.dumpdir));
  return Buffer.concat(records);
}

/** A record's length counts bytes, its own digits included (the value may hold NULs and UTF-8). */
function paxRecord(key: string, value: Buffer): Buffer {
  const len = key.length + value.length + 3; // " ", "=", "\n"
  let digits = String(len).length;
  if (len + digits >= 10 ** digits) digits++;
  return Buffer.concat([Buffer.from(`${len + digits} ${key}=`), value, Buffer.from('\n')]);
}

interface UstarNames {
  name: string;
  prefix: string;
}

/** The name and prefix fields of a ustar header for `h`; undefined if they do not fit. */
function ustarNames(h: Header): UstarNames | undefined {
  let name = h.type === 'directory' && !h.name.endsWith('/') ? `${h.name}/` : h.name;
  if (!/^[\x00-\x7f]*$/.test(name)) return undefined;
  let prefix = '';
  while (name.length > 100) {
    const i = name.indexOf('/');
    if (i === -1) return undefined;
    prefix += prefix ? `/${name.slice(0, i)}` : name.slice(0, i);
    name = name.slice(i + 1);
  }
  if (prefix.length > 155 || !isWellFormed(h.linkname) || Buffer.byteLength(h.linkname) > 100) return undefined;
  return { name, prefix };
}

/** Encodes into `buf` (512 bytes); `names` as ustarNames gives them (the PAX path's always fit). */
function encodeUstar(h: Header, buf: Buffer, names = ustarNames(h)): void {
  if (!names) throw new Error(`no ustar header fits ${h.name}`);
  const { name, prefix } = names;
  buf.fill(0);
  buf.write(name, 0, 'latin1');
  writeOctal(buf, 100, h.mode & 0o7777, 6);
  writeOctal(buf, 108, h.uid, 6);
  writeOctal(buf, 116, h.gid, 6);
  if (h.size > 0o77777777777) writeBase256(buf, 124, h.size);
  else writeOctal(buf, 124, h.size, 11);
  writeOctal(buf, 136, Math.min(Math.max(Math.floor(h.mtimeMs / 1000), 0), 0o77777777777), 11);
  buf[156] = typeflags[h.type];
  if (h.linkname) buf.write(h.linkname, 157, 100, 'utf8');
  buf.write('ustar\x0000', 257, 'latin1');
  writeOctal(buf, 329, 0, 6);
  writeOctal(buf, 337, 0, 6);
  if (prefix) buf.write(prefix, 345, 'latin1');
  let sum = 8 * 32;
  for (let i = 0; i < 148; i++) sum += buf[i] as number;
  for (let i = 156; i < 512; i++) sum += buf[i] as number;
  writeOctal(buf, 148, sum, 6);
}

/** `digits` octal digits then a space, as tar-stream writes them (all 7s when too large). */
function writeOctal(buf: Buffer, at: number, value: number, digits: number): void {
  const s = value.toString(8);
  buf.write(s.length > digits ? `${'7'.repeat(digits)} ` : `${s.padStart(digits, '0')} `, at, 'latin1');
}

/** GNU base-256 size for files of 8 GiB and more. */
function writeBase256(buf: Buffer, at: number, value: number): void {
  buf[at] = 0x80;
  for (let i = 11; i > 0; i--) {
    buf[at + i] = value % 256;
    value = Math.floor(value / 256);
  }
}
