/**
 * The one door front ends open a store by: a location in, an ArchiveStore out. Each kind of
 * store is one member of StoreLocation (core/config) and one line below. It lives with the jobs
 * because front ends reach the engine only through them (eslint.config.mjs).
 */
import type { StoreLocation } from '../config';
import type { ArchiveStore } from '../store/archiveStore';
import { createS3Client } from '../store/s3/client';
import { S3Store } from '../store/s3/s3Store';
import { LocalStore } from '../store/local/localStore';

export type { ArchiveStore } from '../store/archiveStore';

export function openStore(location: StoreLocation): ArchiveStore {
  switch (location.kind) {
    case 's3':
      return new S3Store(createS3Client(location), location);
    case 'file':
      return new LocalStore({ root: location.root });
  }
}
