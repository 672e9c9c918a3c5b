/**
 * A streaming writer of OpenPGP messages as GnuPG 2.2 reads them, on Node's native crypto
 * (OpenSSL): the given session-key packets, then one Symmetrically Encrypted Integrity Protected
 * Data packet, version 1 (RFC 4880 §5.13), holding one Literal Data packet (§5.9, binary, empty
 * file name, date 0), or a Compressed Data packet (§5.6) that holds it (compress.ts makes its
 * body), and the Modification Detection Code packet (§5.14).
 *
 * Guarantees:
 * - The output is a pure function of `SeipdParams` and the plaintext bytes: how the plaintext is
 *   split into chunks, and whether a worker thread is used, never changes a byte. Re-running with
 *   the same params regenerates an identical ciphertext (for resuming an interrupted upload).
 * - Both packets use partial body lengths (§4.2.2.4) of exactly `chunkSize` bytes, the last piece
 *   a normal length (never a zero-length partial tail), so nothing needs the total size up front.
 * - Memory: at most about 2 × `chunkSize` bytes held per stage, whatever the plaintext size.
 *
 * Secrets: `sessionKey` opens the archive. Never log it, and never persist it unencrypted.
 */
import { createCipheriv, createHash, randomBytes, type Cipher, type Hash } from 'node:crypto';

export type SymmetricAlgorithm = 'aes128' | 'aes192' | 'aes256';

/** Everything that determines the ciphertext besides the plaintext. */
export interface SeipdParams {
  /** Session key algorithm; must match what the key packets announce. */
  algorithm: SymmetricAlgorithm;
  /** 16, 24 or 32 bytes for aes128, aes192, aes256. */
  sessionKey: Uint8Array;
  /** The 16 random bytes (one cipher block) that open the encrypted body (§5.13). */
  prefix: Uint8Array;
  /** The session-key packets (SKESK / PKESK), written verbatim before the SEIPD packet. */
  keyPackets: Uint8Array;
  /** Partial body length: a power of two from 512 to 2^30; default `defaultChunkSize`. */
  chunkSize?: number;
}

/** The partial body length used when `chunkSize` is not given (1 MiB). */
export const defaultChunkSize = 1 << 20;

const blockSize = 16;
/** Session key bytes per algorithm. */
export const keySizes: Record<SymmetricAlgorithm, number> = { aes128: 16, aes192: 24, aes256: 32 };
export const literalTag = 11;
const compressedTag = 8;
const seipdTag = 18;
/** Literal data header: format 'b' (binary), file name length 0, date 0 (4 octets). */
export const literalHeader = Buffer.from([0x62, 0, 0, 0, 0, 0]);

/** The packet inside the SEIPD packet: its tag and the octets its body opens with. */
export interface InnerPacket {
  tag: number;
  header: Buffer;
}
/** The Literal Data packet: the data given is the plaintext. */
export const literalPacket: InnerPacket = { tag: literalTag, header: literalHeader };
/** A Compressed Data packet, algorithm 1 (ZIP): the data given is a raw deflate stream (compress.ts). */
export const zipPacket: InnerPacket = { tag: compressedTag, header: Buffer.of(1) };
const mdcHeader = Buffer.from([0xd3, 0x14]);

/** Fresh random parts of the params: a session key for `algorithm` and the prefix. */
export function randomSessionKey(algorithm: SymmetricAlgorithm): Uint8Array {
  return randomBytes(keySizes[algorithm]);
}

export function randomPrefix(): Uint8Array {
  return randomBytes(blockSize);
}

/** The OpenSSL cipher name and checked inputs; throws on malformed params. */
export function checkParams(p: SeipdParams): { cipher: string; chunkSize: number } {
  const size = keySizes[p.algorithm];
  if (!size) throw new Error(`unsupported session key algorithm: ${String(p.algorithm)}`);
  if (p.sessionKey.byteLength !== size) throw new Error(`the ${p.algorithm} session key must be ${size} bytes`);
  if (p.prefix.byteLength !== blockSize) throw new Error(`the SEIPD prefix must be ${blockSize} bytes`);
  const chunkSize = p.chunkSize ?? defaultChunkSize;
  if (!Number.isInteger(chunkSize) || chunkSize < 512 || chunkSize > 2 ** 30 || (chunkSize & (chunkSize - 1)) !== 0) {
    throw new Error('chunkSize must be a power of two from 512 to 2^30');
  }
  return { cipher: `aes-${size * 8}-cfb`, chunkSize };
}

/** A Partial Body Length octet (§4.2.2.4) for 2^k bytes. */
export function partialLength(size: number): Buffer {
  const k = Math.log2(size);
  if (!Number.isInteger(k) || k < 0 || k > 30) throw new Error(`not a partial body length: ${size}`);
  return Buffer.of(0xe0 | k);
}

/** A one-, two- or five-octet new-format body length (§4.2.2.1–3). */
export function bodyLength(size: number): Buffer {
  if (size < 192) return Buffer.of(size);
  if (size < 8384) return Buffer.of(((size - 192) >> 8) + 192, (size - 192) & 0xff);
  const b = Buffer.alloc(5);
  b[0] = 0xff;
  b.writeUInt32BE(size, 1);
  return b;
}

/** What to do with a run of output bytes: copy it, encrypt it, or put the MDC's SHA-1 there. */
export const clear = 0;
export const encrypt = 1;
export const digest = 2;
export type SegmentKind = typeof clear | typeof encrypt | typeof digest;

/**
 * Plaintext as the framing sees it: only its length and slices matter, so the caller may pass
 * stand-ins for bytes that live elsewhere (seipdStream.ts passes spans of buffers it has handed to
 * its worker thread).
 */
export interface Bytes {
  readonly byteLength: number;
  subarray(start: number, end?: number): this;
}

/**
 * A run of output bytes before encryption: `data` is final for `clear`, plaintext for `encrypt`,
 * and a placeholder (its length counts) for `digest`. Bytes the framing makes itself (headers,
 * key packets, prefix) are Buffers; the plaintext is what the caller gave.
 */
export interface Segment<T extends Bytes = Buffer> {
  data: T | Buffer;
  kind: SegmentKind;
}

/**
 * Frames a packet body of unknown length: the new-format tag octet, then a partial length before
 * each `chunkSize` bytes that are known not to be the last, then a normal length for the rest.
 * Headers are written with `headerKind` (encrypted inside the SEIPD body, clear outside it).
 */
export class PacketFramer<T extends Bytes = Buffer> {
  private pending: Segment<T>[] = [];
  private held = 0;
  private started = false;
  private readonly partial: Segment<T>;

  constructor(
    private readonly tag: number,
    private readonly chunkSize: number,
    private readonly headerKind: SegmentKind,
  ) {
    this.partial = { data: partialLength(chunkSize), kind: headerKind };
  }

  /** Adds body bytes; appends to `out` the packet bytes now final. Keeps at most chunkSize bytes. */
  push(seg: Segment<T>, out: Segment<T>[]): void {
    this.start(out);
    let rest = seg.data;
    while (this.held + rest.byteLength > this.chunkSize) {
      const take = this.chunkSize - this.held;
      if (take > 0) this.pending.push({ data: rest.subarray(0, take), kind: seg.kind });
      out.push(this.partial, ...this.pending);
      this.pending = [];
      this.held = 0;
      rest = rest.subarray(take);
    }
    if (rest.byteLength > 0) {
      this.pending.push({ data: rest, kind: seg.kind });
      this.held += rest.byteLength;
    }
  }

  /** Ends the body: appends the normal length of what is held, and those bytes. */
  end(out: Segment<T>[]): void {
    this.start(out);
    out.push({ data: bodyLength(this.held), kind: this.headerKind }, ...this.pending);
    this.pending = [];
    this.held = 0;
  }

  private start(out: Segment<T>[]): void {
    if (this.started) return;
    this.started = true;
    out.push({ data: Buffer.of(0xc0 | this.tag), kind: this.headerKind });
  }
}

/**
 * The plaintext side of a message, no cryptography: lays out every output byte as segments (the
 * key packets, the SEIPD framing, and inside it the prefix, the framed inner packet (Literal Data,
 * or Compressed Data around it) and the MDC packet), marking which bytes are to be encrypted and
 * where the SHA-1 goes.
 */
export class SeipdFraming<T extends Bytes = Buffer> {
  private readonly framer: PacketFramer<T>;
  private readonly outer: PacketFramer<T>;
  private opened = false;
  private readonly inner: Segment<T>[] = [];

  constructor(
    private readonly params: SeipdParams,
    private readonly packet: InnerPacket = literalPacket,
  ) {
    const { chunkSize } = checkParams(params);
    this.framer = new PacketFramer(packet.tag, chunkSize, encrypt);
    this.outer = new PacketFramer(seipdTag, chunkSize, clear);
  }

  /** Plaintext in; appends to `out` the output segments now final. */
  plain(data: T | Buffer, out: Segment<T>[]): void {
    if (!this.opened) {
      this.opened = true;
      const k = this.params.keyPackets;
      out.push({ data: Buffer.from(k.buffer, k.byteOffset, k.byteLength), kind: clear });
      this.outer.push({ data: Buffer.of(1), kind: clear }, out);
      const p = Buffer.from(this.params.prefix);
      this.outer.push({ data: Buffer.concat([p, p.subarray(blockSize - 2)]), kind: encrypt }, out);
      this.framer.push({ data: this.packet.header, kind: encrypt }, this.inner);
    }
    if (data.byteLength > 0) this.framer.push({ data, kind: encrypt }, this.inner);
    this.flushInner(out);
  }

  /** Ends the plaintext; appends the rest of the output segments. */
  end(out: Segment<T>[]): void {
    this.plain(Buffer.alloc(0), out);
    this.framer.end(this.inner);
    this.inner.push({ data: mdcHeader, kind: encrypt }, { data: Buffer.alloc(20), kind: digest });
    this.flushInner(out);
    this.outer.end(out);
  }

  private flushInner(out: Segment<T>[]): void {
    for (const seg of this.inner) this.outer.push(seg, out);
    this.inner.length = 0;
  }
}

/**
 * The cryptography over segments, in order: AES-CFB (zero IV, no resync) over the encrypted
 * bytes, the SHA-1 of those bytes placed (then encrypted) where `digest` segments are, and the
 * size and (unless `hashOutput` is false) the SHA-256 of all output bytes. seipdStream.ts's
 * worker does the same over a batch.
 */
export class SegmentCipher {
  private readonly cipher: Cipher;
  private readonly sha1: Hash = createHash('sha1');
  private readonly sha256?: Hash;
  private mdc?: Buffer;
  private mdcAt = 0;
  size = 0;

  constructor(params: SeipdParams, hashOutput = true) {
    const { cipher } = checkParams(params);
    this.cipher = createCipheriv(cipher, params.sessionKey, Buffer.alloc(blockSize));
    if (hashOutput) this.sha256 = createHash('sha256');
  }

  run(seg: Segment): Buffer {
    let bytes = seg.data;
    if (seg.kind === digest) {
      this.mdc ??= this.sha1.digest();
      bytes = this.mdc.subarray(this.mdcAt, this.mdcAt + bytes.byteLength);
      this.mdcAt += bytes.byteLength;
    } else if (seg.kind === encrypt) this.sha1.update(bytes);
    if (seg.kind !== clear) bytes = this.cipher.update(bytes);
    this.sha256?.update(bytes);
    this.size += bytes.byteLength;
    return bytes;
  }

  /** The SHA-256 (hex) of all output; call once, at the end, and only if hashOutput was true. */
  sha256Hex(): string {
    if (!this.sha256) throw new Error('the output was not hashed');
    return this.sha256.digest('hex');
  }
}

/**
 * Encrypts plaintext given in pieces, in this thread, yielding the message as it is made (pieces
 * of about the size of the plaintext's), so that a large message (a manifest) is never held
 * whole. The bytes are those seipdStream.ts's encryptSeipd gives for the same plaintext. With
 * `zipPacket`, the pieces are the deflate stream (compress.ts's deflateLiteralSync).
 */
export function* encryptSeipdPieces(pieces: Iterable<Uint8Array>, params: SeipdParams, packet: InnerPacket = literalPacket): Generator<Buffer> {
  const framing = new SeipdFraming(params, packet);
  const cipher = new SegmentCipher(params, false);
  const segments: Segment[] = [];
  for (const piece of pieces) {
    framing.plain(asBuffer(piece), segments);
    yield* runSegments(segments, cipher);
  }
  framing.end(segments);
  yield* runSegments(segments, cipher);
}

/** Runs the segments through the cipher in order, yielding each non-empty output; empties the list. */
export function* runSegments(segments: Segment[], cipher: SegmentCipher): Generator<Buffer> {
  for (const seg of segments) if (seg.data.byteLength > 0) yield cipher.run(seg);
  segments.length = 0;
}

/** Encrypts a whole message held in memory (small messages, tests). */
export function encryptSeipdSync(plaintext: Uint8Array, params: SeipdParams): Buffer {
  return Buffer.concat([...encryptSeipdPieces([plaintext], params)]);
}

export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
