/**
 * The Glacier state of an object, from its storage class and the x-amz-restore header; the one
 * place that interprets them (as restic's S3 backend does).
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
