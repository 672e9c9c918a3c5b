/**
 * The Glacier state of an object, from its storage class and the x-amz-restore header of a HEAD,
 * or the RestoreStatus a listing reports; the one place that interprets them (as restic's S3
 * backend does).
 */
export type GlacierState =
  | { state: 'available' }
  | { state: 'archived' }
  | { state: 'restoring' }
  | { state: 'restored'; expiry?: Date };

/** Storage classes whose objects must be restored before a GET. */
export function needsRestore(storageClass: string | undefined): boolean {
  return storageClass === 'GLACIER' || storageClass === 'DEEP_ARCHIVE';
}

/**
 * Maps storage class + x-amz-restore to a state. Examples of the header:
 * `ongoing-request="true"` and `ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"`.
 */
export function glacierState(storageClass: string | undefined, restoreHeader: string | undefined, now = new Date()): GlacierState {
  if (!needsRestore(storageClass)) return { state: 'available' };
  if (!restoreHeader) return { state: 'archived' };
  if (/ongoing-request\s*=\s*"true"/i.test(restoreHeader)) return { state: 'restoring' };
  const expiryText = /expiry-date\s*=\s*"([^"]+)"/i.exec(restoreHeader)?.[1];
  if (!expiryText) return /ongoing-request\s*=\s*"false"/i.test(restoreHeader) ? { state: 'restored' } : { state: 'archived' };
  const expiry = new Date(expiryText);
  if (Number.isNaN(expiry.getTime())) return { state: 'restored' };
  return expiry.getTime() <= now.getTime() ? { state: 'archived' } : { state: 'restored', expiry };
}

/** What a listing says of an object's restore (S3 ListObjectsV2's RestoreStatus), already parsed. */
export interface ListedRestore {
  inProgress?: boolean;
  expiry?: Date;
}

/**
 * Maps storage class + a listing's RestoreStatus to a state, for a listing known to report it
 * (store/s3/listedRestore.ts says when): no RestoreStatus on a cold object means never restored,
 * or its copy expired, so 'archived'. Undefined when the status does not say enough to be sure
 * (a finished restore without a valid expiry date): the caller asks with a HEAD instead.
 */
export function listedGlacierState(storageClass: string | undefined, restore: ListedRestore | undefined, now = new Date()): GlacierState | undefined {
  if (!needsRestore(storageClass)) return { state: 'available' };
  if (!restore) return { state: 'archived' };
  if (restore.inProgress === true) return { state: 'restoring' };
  const expiry = restore.expiry;
  if (restore.inProgress !== false || !(expiry instanceof Date) || Number.isNaN(expiry.getTime())) return undefined;
  return expiry.getTime() <= now.getTime() ? { state: 'archived' } : { state: 'restored', expiry };
}

export function describeState(s: GlacierState): string {
  switch (s.state) {
    case 'available':
      return 'available';
    case 'archived':
      return 'archived';
    case 'restoring':
      return 'restoring';
    case 'restored':
      return s.expiry ? `restored until ${s.expiry.toISOString().replace(/\.\d+Z$/, 'Z')}` : 'restored';
  }
}
