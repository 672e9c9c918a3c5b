/**
 * Which of the given passphrases (or private keys) open the catalog: the newest manifest, or
 * every one. A way to test a passphrase before it is needed, and to find the archives that no
 * passphrase at hand opens any more (made under a forgotten one), without storing anything.
 *
 * Guarantees: reads only manifests (S3 Standard, no restore, no cost beyond requests); each
 * candidate is tried on its own, so the report says which one opens what; a manifest that is
 * damaged or unreachable is reported as such, never as "not opened".
 */
import type { ArchiveStore } from '../store/archiveStore';
import type { Decryption } from '../crypto/openpgp';
import { describeError, GlacierError } from '../errors';
import { listArchives, readManifest } from '../catalog/catalog';

export interface KeyCandidate {
  /** Where it came from, for the report: "GLACIER_BACKUP_PASSPHRASE", "--passphrase-file p.txt"… */
  source: string;
  decryption: Decryption;
}

export interface KeyTestReport {
  /** The manifests tried, newest first. */
  tried: string[];
  /** Per candidate, in the order given: the ids it opens. */
  candidates: { source: string; opens: string[] }[];
  /** Manifests no candidate opens. */
  unopened: string[];
  /** Manifests that could not be read for another reason (damaged, refused, unreachable). */
  failed: { id: string; problem: string }[];
}

export async function testKeys(
  store: ArchiveStore,
  candidates: readonly KeyCandidate[],
  options: { all: boolean; signal?: AbortSignal },
): Promise<KeyTestReport> {
  if (candidates.length === 0) throw new GlacierError('usage', 'no passphrase or private key to test');
  const ids = (await listArchives(store, options.signal)).filter((i) => i.manifest).map((i) => i.id);
  if (ids.length === 0) throw new GlacierError('not-found', `no manifests in ${store.name} to test against: make a backup first`);
  const tried = options.all ? ids : ids.slice(0, 1);
  const report: KeyTestReport = { tried, candidates: candidates.map((c) => ({ source: c.source, opens: [] })), unopened: [], failed: [] };
  for (const id of tried) {
    let opened = false;
    let problem: string | undefined;
    for (const [i, c] of candidates.entries()) {
      try {
        await readManifest(store, id, c.decryption, options.signal);
        report.candidates[i]!.opens.push(id);
        opened = true;
      } catch (err) {
        if (err instanceof GlacierError && err.code === 'cancelled') throw err;
        // A wrong passphrase is the answer looked for; anything else is about the manifest.
        if (!(err instanceof GlacierError && err.code === 'crypto')) problem ??= describeError(err);
      }
    }
    if (!opened) {
      if (problem) report.failed.push({ id, problem });
      else report.unopened.push(id);
    }
  }
  return report;
}
