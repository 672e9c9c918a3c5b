/**
 * The keys that passphrases' S2Ks derived (skesk.ts), kept for the reads of one Decryption: a
 * store's catalog objects share one S2K salt (docs/format.md, "Encryption"), so listing N
 * snapshots derives each passphrase's key once instead of N times (about 17 ms each).
 *
 * Memory only, never written anywhere, and few: at most `maxEntries`, the least recently used
 * dropped (and zeroed) first. Each Decryption object has its own (a WeakMap), so they go when it
 * goes; nothing outlives the passphrase they came from. A derivation under way is shared, so the
 * reads that start together (listing reads 8 at a time) wait for one rather than each running its
 * own. Callers get a copy of the key, theirs to zero.
 *
 * Secrets: the passphrases (held as the Decryption holds them) and the keys. Nothing here logs them.
 */

/** What an S2K derives from, besides the passphrase (RFC 4880 §3.7.1). */
export interface S2kSpec {
  /** OpenSSL's name of the hash. */
  hash: string;
  /** Empty for the simple S2K. */
  salt: Uint8Array;
  /** Undefined for the simple and salted S2Ks. */
  countByte: number | undefined;
  keySize: number;
}

interface Entry extends S2kSpec {
  passphrase: string;
  key: Promise<Buffer>;
}

/** A few keys: one per passphrase tried (at most 4) for the catalog's salt, and room for an archive's. */
export const maxEntries = 8;

export class DerivedKeys {
  /** S2Ks run (not answered from memory); for tests. */
  derivations = 0;
  private entries: Entry[] = [];

  /**
   * The key `derive` gives for `passphrase` and `spec`: remembered, or derived now and remembered.
   * A derivation that fails (aborted) is forgotten; one shared with another read that failed is
   * run again unless `signal` too is aborted.
   */
  async key(passphrase: string, spec: S2kSpec, derive: () => Promise<Buffer>, signal?: AbortSignal): Promise<Buffer> {
    for (;;) {
      let entry = this.entries.find((e) => e.passphrase === passphrase && sameSpec(e, spec));
      const mine = !entry;
      if (entry) {
        this.entries = [entry, ...this.entries.filter((e) => e !== entry)];
      } else {
        const created: Entry = { passphrase, hash: spec.hash, salt: Buffer.from(spec.salt), countByte: spec.countByte, keySize: spec.keySize, key: derive() };
        this.derivations++;
        // Registered first, so it runs before any waiter goes on.
        created.key.catch(() => (this.entries = this.entries.filter((e) => e !== created)));
        this.entries = [created, ...this.entries];
        for (const dropped of this.entries.splice(maxEntries)) void dropped.key.then((k) => k.fill(0), () => undefined);
        entry = created;
      }
      try {
        return Buffer.from(await entry.key);
      } catch (err) {
        if (mine || signal?.aborted) throw err;
      }
    }
  }
}

function sameSpec(a: S2kSpec, b: S2kSpec): boolean {
  return a.hash === b.hash && a.countByte === b.countByte && a.keySize === b.keySize && Buffer.compare(a.salt, b.salt) === 0;
}

const byDecryption = new WeakMap<object, DerivedKeys>();

/** The derived keys of the reads that `dec` (a Decryption) makes. */
export function derivedKeysOf(dec: object): DerivedKeys {
  let keys = byDecryption.get(dec);
  if (!keys) byDecryption.set(dec, (keys = new DerivedKeys()));
  return keys;
}
