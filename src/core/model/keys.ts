/**
 * The keys of the layout every store keeps (format.md "Objects"), relative to the store's root:
 * the one place that spells them. The store adds its prefix (S3) or folder (local).
 */
export const archivesDir = 'archives/';
export const catalogDir = 'catalog/';
export const archiveSuffix = '.tar.gpg';
export const manifestSuffix = '.json.gpg';
/** Escrowed private keys (jobs/keyEscrow.ts): never listed as archives, never flagged by check. */
export const keysDir = 'keys/';
export const freshnessDir = 'freshness/';
export const summarySuffix = '.summary.gpg';

export const keys = {
  archive: (id: string): string => `${archivesDir}${id}${archiveSuffix}`,
  manifest: (id: string): string => `${catalogDir}${id}${manifestSuffix}`,
  escrow: (fingerprint: string): string => `${keysDir}${fingerprint}.asc.gpg`,
  /** The freshness marker of a host (catalog/freshnessMarker.ts): its name made safe for any store. */
  freshness: (host: string): string => `${freshnessDir}${host.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '_').slice(0, 64) || 'unknown'}.json`,
  summary: (id: string): string => `${catalogDir}${id}${summarySuffix}`,
};

/** The time an archive or upload id starts with: "20261201T181113Z" for `now` (UTC, whole seconds; format.md "Objects"). */
export function idStamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}
