/**
 * tar-stream's parser, made to keep names as their bytes.
 *
 * tar-stream decodes names as UTF-8, turning bytes that are not into U+FFFD: such a file would be
 * restored under another name. Here every name source (ustar name and prefix, link name, GNU
 * long names, PAX records, global or not) is read as Latin-1, one character per byte, and each
 * entry's name, link name and PAX values are then carried as rawNames.ts does (the same string as
 * before for UTF-8; lone surrogates for the other bytes). `hdrcharset` needs no handling: with or
 * without it, the bytes are the name.
 *
 * This relies on two methods of tar-stream's Extract (3.2.2, pinned in package.json);
 * test/unit/rawNames.test.ts fails if they change.
 */
import * as tar from 'tar-stream';
import { fromBytes } from '../model/rawNames';

type Pax = Record<string, string>;

interface ExtractInternals {
  _header: { type: string | null; name: string; linkname: string | null; pax: Pax | null } | null;
  _pax: Pax | null;
  _paxGlobal: Pax | null;
  _decodeLongHeader(buf: Buffer): void;
  _applyLongHeaders(): void;
}

export function rawNameExtract(): tar.Extract {
  const extract = tar.extract({ filenameEncoding: 'latin1' } as object);
  const x = extract as unknown as ExtractInternals;
  if (typeof x._decodeLongHeader !== 'function' || typeof x._applyLongHeaders !== 'function') {
    throw new Error('tar-stream changed: raw file names cannot be kept');
  }
  const decodeLongHeader = x._decodeLongHeader.bind(x);
  x._decodeLongHeader = (buf) => {
    const type = x._header?.type;
    if (type === 'pax-header') x._pax = { ...x._paxGlobal, ...decodePax(buf) };
    else if (type === 'pax-global-header') x._paxGlobal = decodePax(buf);
    else decodeLongHeader(buf);
  };
  const applyLongHeaders = x._applyLongHeaders.bind(x);
  x._applyLongHeaders = () => {
    applyLongHeaders();
    const h = x._header;
    if (!h) return;
    h.name = fromLatin1(h.name);
    if (h.linkname) h.linkname = fromLatin1(h.linkname);
    if (h.pax) for (const k of Object.keys(h.pax)) h.pax[k] = fromLatin1(h.pax[k]!);
  };
  return extract;
}

/** PAX records ("<len> key=value\n"), read as tar-stream reads them but one character per byte. */
function decodePax(buf: Buffer): Pax {
  const result: Pax = {};
  while (buf.length) {
    let i = 0;
    while (i < buf.length && buf[i] !== 32) i++;
    const len = parseInt(buf.subarray(0, i).toString('latin1'), 10);
    if (!len) return result;
    const b = buf.subarray(i + 1, len - 1).toString('latin1');
    const keyIndex = b.indexOf('=');
    if (keyIndex === -1) return result;
    result[b.slice(0, keyIndex)] = b.slice(keyIndex + 1);
    buf = buf.subarray(len);
  }
  return result;
}

function fromLatin1(s: string): string {
  return /^[\x00-\x7f]*$/.test(s) ? s : fromBytes(Buffer.from(s, 'latin1'));
}
