/**
 * The passphrase's session-key packet, written with Node's crypto: a version 4 Symmetric-Key
 * Encrypted Session Key packet (RFC 4880 §5.3) with an iterated and salted S2K (§3.7.1.3),
 * SHA-256, 8 random salt bytes and count byte 224 (16 MiB hashed), holding the session key
 * encrypted under the key the passphrase gives. openpgp.js writes the same packet for a
 * passphrase (with the same settings), and GnuPG and openpgp.js both read it. Written here so
 * that a passphrase backup need not load openpgp.js (about 13 MB of memory) for 46 bytes.
 *
 * Secrets: the passphrase, the derived key and the session key. Nothing here logs or keeps them.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { keySizes, type SymmetricAlgorithm } from './seipd';

const algorithmIds: Record<SymmetricAlgorithm, number> = { aes128: 7, aes192: 8, aes256: 9 };
const sha256Id = 8;
const iteratedSalted = 3;
/** openpgp.js's default (config.s2kIterationCountByte). */
export const defaultCountByte = 224;

/** Bytes hashed for an S2K count byte (§3.7.1.3). */
export function s2kCount(countByte: number): number {
  return (16 + (countByte & 15)) * 2 ** ((countByte >> 4) + 6);
}

/**
 * The key an iterated and salted SHA-256 S2K derives from `passphrase` (UTF-8): salt‖passphrase
 * hashed over and over until `count` bytes (at least once whole); a longer key than one hash
 * takes more hashes, each preloaded with one more zero byte.
 */
export function s2kKey(passphrase: string, salt: Uint8Array, countByte: number, keySize: number): Buffer {
  const unit = Buffer.concat([salt, Buffer.from(passphrase, 'utf8')]);
  const count = Math.max(s2kCount(countByte), unit.byteLength);
  // Whole repetitions of the unit, about 64 KiB: hashing it block by block is hashing the stream.
  const block = Buffer.concat(new Array<Buffer>(Math.max(1, Math.floor((1 << 16) / unit.byteLength))).fill(unit));
  const out: Buffer[] = [];
  for (let i = 0; out.length * 32 < keySize; i++) {
    const h = createHash('sha256');
    if (i > 0) h.update(Buffer.alloc(i));
    let left = count;
    for (; left >= block.byteLength; left -= block.byteLength) h.update(block);
    if (left > 0) h.update(block.subarray(0, left));
    out.push(h.digest());
  }
  return Buffer.concat(out).subarray(0, keySize);
}

/** The SKESK v4 packet (new format, tag 3) that opens `sessionKey` with `passphrase`. */
export function passphraseKeyPacket(passphrase: string, algorithm: SymmetricAlgorithm, sessionKey: Uint8Array, salt: Uint8Array = randomBytes(8)): Buffer {
  const size = keySizes[algorithm];
  if (sessionKey.byteLength !== size) throw new Error(`the ${algorithm} session key must be ${size} bytes`);
  if (salt.byteLength !== 8) throw new Error('the S2K salt must be 8 bytes');
  const key = s2kKey(passphrase, salt, defaultCountByte, size);
  // The algorithm octet and the session key, in CFB with a zero IV under the derived key (§5.3).
  const cipher = createCipheriv(`aes-${size * 8}-cfb`, key, Buffer.alloc(16));
  const encrypted = Buffer.concat([cipher.update(Buffer.of(algorithmIds[algorithm])), cipher.update(sessionKey), cipher.final()]);
  key.fill(0);
  const body = Buffer.concat([Buffer.of(4, algorithmIds[algorithm], iteratedSalted, sha256Id), salt, Buffer.of(defaultCountByte), encrypted]);
  return Buffer.concat([Buffer.of(0xc0 | 3, body.byteLength), body]);
}
