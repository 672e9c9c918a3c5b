/**
 * Hand-made OpenPGP packets for hostile-input tests: what no honest writer makes (a second
 * literal packet, 1-byte partial lengths, S2K parameters far past any default), built byte by
 * byte so the reader's limits can be tested on exactly the bytes an attacker would plant.
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { bodyLength, partialLength } from '../../src/core/crypto/seipd';
import { passphraseKeyPacket } from '../../src/core/crypto/skesk';

export const tag = { signature: 2, skesk: 3, onePass: 4, compressed: 8, literal: 11, seipd: 18, padding: 21 } as const;

/** A new-format packet with a normal length. */
export function packet(t: number, body: Uint8Array): Buffer {
  return Buffer.concat([Buffer.of(0xc0 | t), bodyLength(body.byteLength), body]);
}

/**
 * A new-format packet whose body is cut into partial lengths: `first` bytes, then pieces of
 * `piece` bytes (powers of two), the rest under a normal length.
 */
export function partialPacket(t: number, body: Buffer, first: number, piece: number): Buffer {
  const out: Buffer[] = [Buffer.of(0xc0 | t)];
  let at = 0;
  for (let size = first; body.byteLength - at > size; at += size, size = piece) out.push(partialLength(size), body.subarray(at, at + size));
  out.push(bodyLength(body.byteLength - at), body.subarray(at));
  return Buffer.concat(out);
}

/** A binary Literal Data packet body (§5.9). */
export function literalBody(data: Uint8Array, name = ''): Buffer {
  return Buffer.concat([Buffer.of(0x62, name.length), Buffer.from(name, 'latin1'), Buffer.alloc(4), data]);
}

/** The plaintext of a SEIPD v1 body (prefix, `inner`, MDC) encrypted under `key` (AES-256), with its version octet. */
export function seipdBody(inner: Uint8Array, key: Uint8Array): Buffer {
  const prefix = randomBytes(16);
  const clear = Buffer.concat([prefix, prefix.subarray(14), inner, Buffer.of(0xd3, 0x14)]);
  const mdc = createHash('sha1').update(clear).digest();
  const cipher = createCipheriv('aes-256-cfb', key, Buffer.alloc(16));
  return Buffer.concat([Buffer.of(1), cipher.update(Buffer.concat([clear, mdc])), cipher.final()]);
}

/**
 * A passphrase message whose SEIPD holds exactly `inner` (packets as given), its SEIPD framed by
 * `frame` (a normal length by default).
 */
export function messageOf(inner: Uint8Array, passphrase: string, frame: (body: Buffer) => Buffer = (b) => packet(tag.seipd, b)): Buffer {
  const key = randomBytes(32);
  return Buffer.concat([passphraseKeyPacket(passphrase, 'aes256', key), frame(seipdBody(inner, key))]);
}

/** An SKESK v4 (§5.3) with an iterated and salted S2K of `countByte`, AES-256, SHA-256, no encrypted key. */
export function skeskV4Iterated(countByte: number, hash = 8): Buffer {
  return packet(tag.skesk, Buffer.concat([Buffer.of(4, 9, 3, hash), randomBytes(8), Buffer.of(countByte)]));
}

/** An SKESK v4 with an Argon2 S2K (RFC 9580 §3.7.1.4): passes `t`, parallelism `p`, memory 2^`m` KiB. */
export function skeskV4Argon2(t: number, p: number, m: number): Buffer {
  return packet(tag.skesk, Buffer.concat([Buffer.of(4, 9, 4), randomBytes(16), Buffer.of(t, p, m)]));
}

/** An SKESK v6 (RFC 9580 §5.3.2) with an Argon2 S2K, AES-256 and OCB, and a made-up encrypted key. */
export function skeskV6Argon2(t: number, p: number, m: number): Buffer {
  const s2k = Buffer.concat([Buffer.of(4), randomBytes(16), Buffer.of(t, p, m)]);
  const fields = Buffer.concat([Buffer.of(9, 2, s2k.byteLength), s2k, randomBytes(15)]);
  return packet(tag.skesk, Buffer.concat([Buffer.of(6, fields.byteLength), fields, randomBytes(32 + 16)]));
}
