/**
 * The keys of the layout every store keeps (format.md "Objects"), relative to the store's root:
 * the one place that spells them. The store adds its prefix (S3) or folder (local).
 */
export const archivesDir = 'archives/';
export const catalogDir = 'catalog/';
export const archiveSuffix = '.tar.gpg';
export const manifestSuffix = '.json.gpg';
export const summarySuffix = '.summary.gpg';

export const keys = {
  archive: (id: string): string => `${archivesDir}${id}${archiveSuffix}`,
  manifest: (id: string): string => `${catalogDir}${id}${manifestSuffix}`,
  summary: (id: string): string => `${catalogDir}${id}${summarySuffix}`,
};
