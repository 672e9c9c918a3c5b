/**
 * An incremental reader of a manifest's JSON, fed the plaintext as it is decrypted, so that a
 * manifest is never held as bytes, then a string, then objects at once. Each element of the
 * top-level "entries" array is parsed (and handed to `onEntry`) as soon as its closing brace
 * arrives; everything else (the small header fields, sources, skipped, changed) is kept as
 * bytes with the entries array left empty, and parsed once at the end.
 *
 * Guarantees: fails with a ManifestScanError, before holding more, once the plaintext passes
 * `maxBytes`, the entries pass `maxEntries`, one entry's JSON passes `maxEntryBytes`, the rest
 * passes `maxOtherBytes`, or nesting passes `maxDepth`. Input that is not JSON, or whose
 * "entries" is not an array of objects, is refused; the result equals JSON.parse of the whole.
 */

export interface ScanLimits {
  maxBytes: number;
  maxEntries: number;
  maxEntryBytes: number;
  maxOtherBytes: number;
  maxDepth: number;
}

export class ManifestScanError extends Error {
  constructor(
    readonly reason: 'json' | 'too-large' | 'too-many-entries' | 'entry-too-large' | 'too-deep' | 'entries',
    message: string,
  ) {
    super(message);
  }
}

const quote = 0x22;
const backslash = 0x5c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;
const comma = 0x2c;
const entriesKey = Buffer.from('entries');

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

export class ManifestScanner {
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** Bytes of the string being read at depth 1 (a key, or a header value), up to `entriesKey`'s length + 1. */
  private key: number[] | undefined;
  private lastKey = '';
  /** Inside the top-level "entries" array: what may come next at its own level. */
  private inEntries = false;
  private entriesSeen = false;
  private expect: 'first' | 'value' | 'comma' = 'first';
  private entryParts: Buffer[] = [];
  private entryBytes = 0;
  private entryStart = -1;
  private entries = 0;
  private readonly other: Buffer[] = [];
  private otherBytes = 0;
  private total = 0;

  constructor(
    private readonly limits: ScanLimits,
    private readonly onEntry: (entry: unknown, index: number, bytes: number) => void,
  ) {}

  push(chunk: Buffer): void {
    this.total += chunk.byteLength;
    if (this.total > this.limits.maxBytes) throw new ManifestScanError('too-large', `its plaintext is larger than ${this.limits.maxBytes} bytes`);
    let otherStart = this.inEntries ? -1 : 0;
    this.entryStart = this.entryParts.length > 0 ? 0 : -1;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === backslash) this.escaped = true;
        else if (b === quote) {
          this.inString = false;
          if (this.key) this.lastKey = this.key.length === entriesKey.length && Buffer.from(this.key).equals(entriesKey) ? 'entries' : '';
          this.key = undefined;
        } else if (this.key && this.key.length <= entriesKey.length) this.key.push(b);
        continue;
      }
      if (b === quote) {
        this.inString = true;
        if (this.depth === 1) this.key = [];
        if (this.inEntries && this.depth === 2) this.notAnEntry();
        continue;
      }
      if (this.inEntries && this.depth === 2) {
        if (isSpace(b)) continue;
        if (b === openBrace && this.expect !== 'comma') {
          if (++this.entries > this.limits.maxEntries) throw new ManifestScanError('too-many-entries', `it lists more than ${this.limits.maxEntries} entries`);
          this.entryStart = i;
          this.depth = 3;
        } else if (b === comma && this.expect === 'comma') {
          this.expect = 'value';
        } else if (b === closeBracket && this.expect !== 'value') {
          this.inEntries = false;
          this.depth = 1;
          otherStart = i;
        } else {
          this.notAnEntry();
        }
        continue;
      }
      if (b === openBrace || b === openBracket) {
        if (++this.depth > this.limits.maxDepth) throw new ManifestScanError('too-deep', `it nests deeper than ${this.limits.maxDepth} levels`);
        if (b === openBracket && this.depth === 2 && this.lastKey === 'entries') {
          if (this.entriesSeen) throw new ManifestScanError('entries', '"entries" appears twice');
          this.entriesSeen = true;
          this.inEntries = true;
          this.expect = 'first';
          this.keep(chunk.subarray(otherStart, i + 1));
          otherStart = -1;
        }
      } else if (b === closeBrace || b === closeBracket) {
        if (--this.depth < 0) throw new ManifestScanError('json', 'it is not valid JSON');
        if (this.inEntries && this.depth === 2) this.endEntry(chunk, i + 1);
      }
    }
    if (otherStart >= 0) this.keep(chunk.subarray(otherStart));
    if (this.entryStart >= 0) this.holdEntry(chunk.subarray(this.entryStart));
  }

  /** The whole manifest as JSON.parse would give it; throws if the input ended early. */
  end(): { value: unknown; entries: number } {
    if (this.inString || this.depth !== 0 || this.inEntries) throw new ManifestScanError('json', 'it is not valid JSON (it ends early)');
    const text = Buffer.concat(this.other, this.otherBytes).toString('utf8');
    this.other.length = 0;
    try {
      return { value: JSON.parse(text), entries: this.entries };
    } catch {
      throw new ManifestScanError('json', 'it is not valid JSON');
    }
  }

  private notAnEntry(): never {
    throw new ManifestScanError('entries', 'an entry is malformed');
  }

  private keep(bytes: Buffer): void {
    this.otherBytes += bytes.byteLength;
    if (this.otherBytes > this.limits.maxOtherBytes) throw new ManifestScanError('too-large', `its fields other than the entries are larger than ${this.limits.maxOtherBytes} bytes`);
    // A copy: the producer may reuse its buffers.
    this.other.push(Buffer.from(bytes));
  }

  private holdEntry(bytes: Buffer): void {
    this.entryBytes += bytes.byteLength;
    if (this.entryBytes > this.limits.maxEntryBytes) throw new ManifestScanError('entry-too-large', `an entry is larger than ${this.limits.maxEntryBytes} bytes`);
    this.entryParts.push(Buffer.from(bytes));
  }

  private endEntry(chunk: Buffer, end: number): void {
    let text: string;
    let bytes: number;
    if (this.entryParts.length === 0) {
      if (end - this.entryStart > this.limits.maxEntryBytes) throw new ManifestScanError('entry-too-large', `an entry is larger than ${this.limits.maxEntryBytes} bytes`);
      text = chunk.toString('utf8', this.entryStart, end);
      bytes = end - this.entryStart;
    } else {
      this.holdEntry(chunk.subarray(0, end));
      text = Buffer.concat(this.entryParts, this.entryBytes).toString('utf8');
      bytes = this.entryBytes;
      this.entryParts = [];
      this.entryBytes = 0;
    }
    this.entryStart = -1;
    this.expect = 'comma';
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch {
      throw new ManifestScanError('json', 'it is not valid JSON');
    }
    this.onEntry(entry, this.entries - 1, bytes);
  }
}
