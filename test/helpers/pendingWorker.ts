/**
 * A separate process for the concurrency tests of local state: adds `count` pending restores
 * (ids `<tag>-<n>`) to a shared FilePendingStore through a RestoreTracker, one update at a time.
 * Usage: node --import tsx pendingWorker.ts FILE TAG COUNT
 */
import { S3Client } from '@aws-sdk/client-s3';
import { FilePendingStore, RestoreTracker } from '../../src/core/jobs/restoreTracker';
import { S3Store } from '../../src/core/store/s3/s3Store';

async function main(): Promise<void> {
  const [file, tag, count] = process.argv.slice(2);
  const tracker = new RestoreTracker({
    store: new S3Store(new S3Client({ region: 'us-east-1' }), { bucket: 'b', prefix: 'p/', storageClass: 'DEEP_ARCHIVE' }),
    pending: new FilePendingStore(file!),
  });
  for (let i = 0; i < Number(count); i++) await tracker.add(`${tag}-${i}`);
}

void main();
