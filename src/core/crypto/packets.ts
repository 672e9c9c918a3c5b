/**
 * OpenPGP packet framing for the streaming reader (messageReader.ts): packet headers in both
 * formats (RFC 4880 §4.2), bodies across partial lengths, and a byte source that reads exactly or
 * as bytes come. Every length is checked against what is there; nothing is held beyond a piece.
 */
import { GlacierError } from '../errors';

export const tags = { pkesk: 1, signature: 2, skesk: 3, onePass: 4, compressed: 8, sed: 9, marker: 10, literal: 11, seipd: 18, aead: 20, padding: 21 } as const;

export type BodyLength = { kind: 'fixed' | 'partial'; size: number } | { kind: 'rest' };
export interface PacketHeader {
  tag: number;
  length: BodyLength;
  raw: Buffer;
}

/** The next packet header, or undefined at the end; `notPgp` words a first byte that is no header. */
export async function readHeader(src: ByteSource, what: string, notPgp: string | undefined): Promise<PacketHeader | undefined> {
  if (await src.atEnd()) return undefined;
  const [ctb] = await src.readExact(1, what);
  if (!(ctb! & 0x80)) throw notPgp ? new GlacierError('corrupt', notPgp) : corrupt(what, 'a packet header is malformed');
  if (ctb! & 0x40) {
    const [first] = await src.readExact(1, what);
    const length = await newLength(src, first!, what);
    return { tag: ctb! & 0x3f, length, raw: Buffer.concat([Buffer.of(ctb!), lengthOctets(length, first!)]) };
  }
  const type = ctb! & 3;
  const tag = (ctb! >> 2) & 0x0f;
  if (type === 3) return { tag, length: { kind: 'rest' }, raw: Buffer.of(ctb!) };
  const bytes = await src.readExact(1 << type, what);
  return { tag, length: { kind: 'fixed', size: bytes.readUIntBE(0, bytes.byteLength) }, raw: Buffer.concat([Buffer.of(ctb!), bytes]) };
}

/** A new-format body length (§4.2.2) whose first octet is `first`. */
async function newLength(src: ByteSource, first: number, what: string): Promise<{ kind: 'fixed' | 'partial'; size: number }> {
  if (first < 192) return { kind: 'fixed', size: first };
  if (first < 224) return { kind: 'fixed', size: ((first - 192) << 8) + (await src.readExact(1, what))[0]! + 192 };
  if (first === 255) return { kind: 'fixed', size: (await src.readExact(4, what)).readUInt32BE(0) };
  return { kind: 'partial', size: 1 << (first & 0x1f) };
}

/** The octets that encode a new-format length (§4.2.2) whose first octet was `first`. */
function lengthOctets(length: { kind: 'fixed' | 'partial'; size: number }, first: number): Buffer {
  if (length.kind === 'partial' || first < 192) return Buffer.of(first);
  if (first < 224) return Buffer.of(first, (length.size - 192) & 0xff);
  const out = Buffer.alloc(5, 255);
  out.writeUInt32BE(length.size, 1);
  return out;
}

/** Pieces shorter than this are copied together into pieces of `joinedSize` before they are yielded. */
const joinBelow = 4096;
const joinedSize = 1 << 16;

/**
 * A packet's body, across partial lengths, in pieces as they come. Short pieces (partial lengths
 * of a few bytes, or a source that arrives a byte at a time) are copied together, and a partial
 * length whose octet is already held is read in place: the cost per body byte stays the same
 * whatever the framing.
 */
export async function* bodyOf(src: ByteSource, length: BodyLength, what: string): AsyncGenerator<Buffer> {
  if (length.kind === 'rest') {
    yield* src.rest();
    return;
  }
  let { kind, size } = length;
  let joined: Buffer | undefined;
  let held = 0;
  for (;;) {
    for (let left = size; left > 0; ) {
      if (src.held === 0 && (await src.atEnd())) throw corrupt(what, 'it is truncated');
      if (Math.min(left, src.held) < joinBelow) {
        joined ??= Buffer.allocUnsafe(joinedSize);
        const n = src.copyHeld(joined, held, left);
        held += n;
        left -= n;
        if (held === joinedSize) {
          yield joined;
          joined = undefined;
          held = 0;
        }
        continue;
      }
      const piece = src.takeHeld(left)!;
      left -= piece.byteLength;
      if (held > 0) yield joined!.subarray(0, held);
      joined = undefined;
      held = 0;
      yield piece;
    }
    if (kind === 'fixed') break;
    const first = src.peekHeld();
    if (first >= 224 && first < 255) {
      src.skipHeld(1);
      size = 1 << (first & 0x1f);
    } else ({ kind, size } = await newLength(src, (await src.readExact(1, what))[0]!, what));
  }
  if (held > 0) yield joined!.subarray(0, held);
}

export function corrupt(what: string, why: string, kind: 'damaged' | 'integrity' = 'damaged'): GlacierError {
  const verb = kind === 'integrity' ? 'failed its integrity check' : 'is damaged';
  return new GlacierError('corrupt', `${what} ${verb} (${why})`);
}

/** Reads `pieces` to their end, for what reading them checks, not for the bytes. */
export async function drain(pieces: AsyncIterable<Buffer>): Promise<void> {
  for await (const piece of pieces) void piece;
}

/**
 * Bytes from an async iterator, read exactly or as they come, without copies. While recording,
 * it keeps what it pulled, so the message can be handed whole to another reader.
 */
export class ByteSource {
  private head: Buffer = Buffer.alloc(0);
  /** Where the unread bytes of `head` start. */
  private at = 0;
  private recorded: Uint8Array[] | undefined;
  private done = false;

  constructor(
    private readonly it: AsyncIterator<Uint8Array>,
    record = false,
  ) {
    if (record) this.recorded = [];
  }

  /** Whether nothing is left; pulls the next chunk if needed. */
  async atEnd(): Promise<boolean> {
    while (this.at === this.head.byteLength) {
      if (this.done) return true;
      const r = await this.it.next();
      if (r.done) {
        this.done = true;
        return true;
      }
      this.recorded?.push(r.value);
      this.head = Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
      this.at = 0;
    }
    return false;
  }

  /** Up to `max` bytes (at least one), or undefined at the end. */
  async readSome(max = Infinity): Promise<Buffer | undefined> {
    if (await this.atEnd()) return undefined;
    return this.takeHeld(max);
  }

  /** Up to `max` bytes (at least one) of those already pulled, or undefined if none are held. */
  takeHeld(max: number): Buffer | undefined {
    const n = Math.min(max, this.head.byteLength - this.at);
    if (n <= 0) return undefined;
    const out = n === this.head.byteLength ? this.head : this.head.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** Copies up to `max` bytes already pulled into `dest` at `offset`; how many (0 if none are held). */
  copyHeld(dest: Buffer, offset: number, max: number): number {
    const n = Math.min(max, this.head.byteLength - this.at, dest.byteLength - offset);
    if (n < 16) for (let i = 0; i < n; i++) dest[offset + i] = this.head[this.at + i]!;
    else this.head.copy(dest, offset, this.at, this.at + n);
    this.at += n;
    return n;
  }

  /** How many bytes are pulled and not read yet. */
  get held(): number {
    return this.head.byteLength - this.at;
  }

  /** The byte `ahead` bytes on among those already pulled, or -1 if it is not held. */
  peekHeld(ahead = 0): number {
    return this.at + ahead < this.head.byteLength ? this.head[this.at + ahead]! : -1;
  }

  /** Skips `n` bytes known to be held (see peekHeld). */
  skipHeld(n: number): void {
    this.at += n;
  }

  async readExact(n: number, what: string): Promise<Buffer> {
    const first = await this.readSome(n);
    if (first?.byteLength === n || n === 0) return first ?? Buffer.alloc(0);
    const parts = first ? [first] : [];
    for (let got = first?.byteLength ?? 0; got < n; ) {
      const piece = await this.readSome(n - got);
      if (!piece) throw corrupt(what, 'it is truncated');
      parts.push(piece);
      got += piece.byteLength;
    }
    return Buffer.concat(parts);
  }

  async *rest(): AsyncGenerator<Buffer> {
    for (let piece = await this.readSome(); piece; piece = await this.readSome()) yield piece;
  }

  stopRecording(): void {
    this.recorded = undefined;
  }

  /** Everything pulled so far, then the rest of the source, for another reader. */
  replay(): AsyncIterable<Uint8Array> {
    const recorded = this.recorded ?? [];
    this.recorded = undefined;
    const it = this.it;
    this.done = true;
    this.head = Buffer.alloc(0);
    this.at = 0;
    return (async function* () {
      yield* recorded;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    })();
  }

  async close(): Promise<void> {
    this.done = true;
    await this.it.return?.(undefined);
  }
}
