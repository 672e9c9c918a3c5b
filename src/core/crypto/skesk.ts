/**
 * The passphrase's session-key packet, written and read with Node's crypto: a version 4 Symmetric-Key
 * Encrypted Session Key packet (RFC 4880 §5.3) with an iterated and salted S2K (§3.7.1.3),
 * SHA-256, 8 random salt bytes and count byte 224 (16 MiB hashed), holding the session key
 * encrypted under the key the passphrase gives. openpgp.js writes the same packet for a
 * passphrase (with the same settings), and GnuPG and openpgp.js both read it. Written here so
 * that a passphrase backup need not load openpgp.js (about 13 MB of memory) for 46 bytes.
 * `openPassphraseKeyPacket` reads the v4 packets GnuPG writes too (`gpg --symmetric`: no
 * encrypted session key, the S2K's key is the session key; any S2K type but Argon2).
 *
 * Secrets: the passphrase, the derived key and the session key. Nothing here logs or keeps them.
 */
import { createCipheriv, createDecipheriv, createHash, getHashes, randomBytes } from 'node:crypto';
import type { DerivedKeys } from './derivedKeys';
import { yieldTurn } from './keyPackets';
import { keySizes, type SymmetricAlgorithm } from './seipd';

const algorithmIds: Record<SymmetricAlgorithm, number> = { aes128: 7, aes192: 8, aes256: 9 };
/** OpenPGP hash ids (§9.4) and their OpenSSL names. */
const hashNames = new Map<number, string>([[1, 'md5'], [2, 'sha1'], [3, 'ripemd160'], [8, 'sha256'], [9, 'sha384'], [10, 'sha512'], [11, 'sha224']]);
const sha256Id = 8;
const simple = 0;
const salted = 1;
const iteratedSalted = 3;
/** openpgp.js's default (config.s2kIterationCountByte). */
export const defaultCountByte = 224;

/** Bytes hashed for an S2K count byte (§3.7.1.3). */
export function s2kCount(countByte: number): number {
  return (16 + (countByte & 15)) * 2 ** ((countByte >> 4) + 6);
}

/** Bytes an S2K hashes between two turns of the event loop (a few milliseconds of SHA-256). */
const sliceBytes = 8 << 20;

/**
 * The key an S2K derives from `passphrase` (UTF-8): salt‖passphrase hashed over and over until
 * `count` bytes (at least once whole; count 0 and no salt is the simple S2K, count 0 the salted
 * one); a longer key than one hash takes more hashes, each preloaded with one more zero byte.
 * Yields after every `sliceBytes` hashed; returns the key.
 */
function* s2kSteps(passphrase: string, salt: Uint8Array, countByte: number | undefined, keySize: number, hash: string): Generator<void, Buffer> {
  const unit = Buffer.concat([salt, Buffer.from(passphrase, 'utf8')]);
  const count = Math.max(countByte === undefined ? 0 : s2kCount(countByte), unit.byteLength);
  // Whole repetitions of the unit, about 64 KiB: hashing it block by block is hashing the stream.
  const block = Buffer.concat(new Array<Buffer>(Math.max(1, Math.floor((1 << 16) / unit.byteLength))).fill(unit));
  const out: Buffer[] = [];
  for (let i = 0, got = 0; got < keySize; i++) {
    const h = createHash(hash);
    if (i > 0) h.update(Buffer.alloc(i));
    let left = count;
    for (let slice = 0; left >= block.byteLength; left -= block.byteLength) {
      h.update(block);
      if ((slice += block.byteLength) >= sliceBytes) {
        slice = 0;
        yield;
      }
    }
    if (left > 0) h.update(block.subarray(0, left));
    out.push(h.digest());
    got += out[i]!.byteLength;
  }
  return Buffer.concat(out).subarray(0, keySize);
}

/** The S2K's key (see s2kSteps), at once. */
export function s2kKey(passphrase: string, salt: Uint8Array, countByte: number | undefined, keySize: number, hash = 'sha256'): Buffer {
  const steps = s2kSteps(passphrase, salt, countByte, keySize, hash);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** The S2K's key (see s2kSteps), letting signals and timers run between slices; throws once `signal` is aborted. */
async function s2kKeyInTurns(passphrase: string, salt: Uint8Array, countByte: number | undefined, keySize: number, hash: string, signal: AbortSignal | undefined, what: string): Promise<Buffer> {
  const steps = s2kSteps(passphrase, salt, countByte, keySize, hash);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await yieldTurn(signal, what);
  }
}

/**
 * The SKESK v4 packet (new format, tag 3) that opens `sessionKey` with `passphrase`; `countByte`
 * above the default makes each guess dearer (key escrow uses 255, the format's most).
 */
export function passphraseKeyPacket(passphrase: string, algorithm: SymmetricAlgorithm, sessionKey: Uint8Array, salt: Uint8Array = randomBytes(8), countByte = defaultCountByte): Buffer {
  const size = keySizes[algorithm];
  if (sessionKey.byteLength !== size) throw new Error(`the ${algorithm} session key must be ${size} bytes`);
  if (salt.byteLength !== 8) throw new Error('the S2K salt must be 8 bytes');
  if (!Number.isInteger(countByte) || countByte < 0 || countByte > 255) throw new Error('the S2K count byte must be 0 to 255');
  const key = s2kKey(passphrase, salt, countByte, size);
  // The algorithm octet and the session key, in CFB with a zero IV under the derived key (§5.3).
  const cipher = createCipheriv(`aes-${size * 8}-cfb`, key, Buffer.alloc(16));
  const encrypted = Buffer.concat([cipher.update(Buffer.of(algorithmIds[algorithm])), cipher.update(sessionKey), cipher.final()]);
  key.fill(0);
  const body = Buffer.concat([Buffer.of(4, algorithmIds[algorithm], iteratedSalted, sha256Id), salt, Buffer.of(countByte), encrypted]);
  return Buffer.concat([Buffer.of(0xc0 | 3, body.byteLength), body]);
}

/** An OpenPGP symmetric cipher (RFC 4880 §9.2, RFC 9580 §9.3): key and block size, and its OpenSSL name if any. */
export interface SymmetricCipher {
  name: string;
  keySize: number;
  blockSize: number;
  /**
   * OpenSSL's name without the mode (`aes-256` for `aes-256-cfb` and `aes-256-ecb`). Absent where
   * OpenSSL has none (Twofish); OpenSSL 3 has some only with its legacy provider.
   */
  openssl?: string;
}

export const symmetricCiphers = new Map<number, SymmetricCipher>([
  [1, { name: 'IDEA', keySize: 16, blockSize: 8, openssl: 'idea' }],
  [2, { name: 'TripleDES', keySize: 24, blockSize: 8, openssl: 'des-ede3' }],
  [3, { name: 'CAST5', keySize: 16, blockSize: 8, openssl: 'cast5' }],
  [4, { name: 'Blowfish', keySize: 16, blockSize: 8, openssl: 'bf' }],
  [7, { name: 'AES-128', keySize: 16, blockSize: 16, openssl: 'aes-128' }],
  [8, { name: 'AES-192', keySize: 24, blockSize: 16, openssl: 'aes-192' }],
  [9, { name: 'AES-256', keySize: 32, blockSize: 16, openssl: 'aes-256' }],
  [10, { name: 'Twofish', keySize: 32, blockSize: 16 }],
  [11, { name: 'Camellia-128', keySize: 16, blockSize: 16, openssl: 'camellia-128' }],
  [12, { name: 'Camellia-192', keySize: 24, blockSize: 16, openssl: 'camellia-192' }],
  [13, { name: 'Camellia-256', keySize: 32, blockSize: 16, openssl: 'camellia-256' }],
]);

/** A session key: the cipher id it is for, and its bytes. */
export interface SessionKey {
  cipher: number;
  key: Buffer;
}

/**
 * The session key that `passphrase` opens from an SKESK packet's body (§5.3): the S2K's key, or
 * the session key encrypted under it. A wrong passphrase is only sometimes told here (undefined);
 * the caller checks the key against the data (the quick check). Versions, S2K types (Argon2) and
 * ciphers this does not read come back as `unsupported`, for openpgp.js to try. The S2K runs in
 * slices between which signals and timers run; an aborted `signal` stops it. With `derived`, a key
 * this passphrase, hash, salt and count gave before is taken from there (a store's catalog objects
 * share their salt), and a new one is kept there.
 */
export async function openPassphraseKeyPacket(
  body: Uint8Array,
  passphrase: string,
  signal: AbortSignal | undefined,
  what: string,
  derived?: DerivedKeys,
): Promise<SessionKey | { unsupported: string } | undefined> {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (b.byteLength < 4 || b[0] !== 4) return { unsupported: `a version ${b[0] ?? '?'} passphrase packet` };
  const cipher = symmetricCiphers.get(b[1]!);
  if (!cipher?.openssl) return { unsupported: `cipher ${cipher?.name ?? b[1]}` };
  const type = b[2]!;
  const hash = hashNames.get(b[3]!);
  if (!hash) return { unsupported: `S2K hash ${b[3]}` };
  const spec = type === simple ? 4 : type === salted ? 12 : type === iteratedSalted ? 13 : -1;
  if (spec < 0) return { unsupported: `S2K type ${type}` };
  if (b.byteLength < spec) return { unsupported: 'a truncated passphrase packet' };
  const salt = type === simple ? Buffer.alloc(0) : b.subarray(4, 12);
  const countByte = type === iteratedSalted ? b[12] : undefined;
  const encrypted = b.subarray(spec);
  let opened: Buffer;
  if (!getHashes().includes(hash)) return { unsupported: `S2K hash ${b[3]} (not in this OpenSSL)` };
  const derive = (): Promise<Buffer> => s2kKeyInTurns(passphrase, salt, countByte, cipher.keySize, hash, signal, what);
  const key = derived ? await derived.key(passphrase, { hash, salt, countByte, keySize: cipher.keySize }, derive, signal) : await derive();
  try {
    if (encrypted.byteLength === 0) return { cipher: b[1]!, key };
    const decipher = createDecipheriv(`${cipher.openssl}-cfb`, key, Buffer.alloc(cipher.blockSize));
    opened = Buffer.concat([decipher.update(encrypted), decipher.final()]);
    key.fill(0);
  } catch {
    return { unsupported: `cipher ${b[1]} or S2K hash ${b[3]} (not in this OpenSSL)` };
  }
  const inner = symmetricCiphers.get(opened[0]!);
  const result = inner && opened.byteLength === 1 + inner.keySize ? { cipher: opened[0]!, key: Buffer.from(opened.subarray(1)) } : undefined;
  opened.fill(0);
  return result;
}
