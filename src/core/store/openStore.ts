/**
 * The one door front ends open a store by: a location in, an ArchiveStore out. Each kind of
 * store is one member of StoreLocation and one line below.
 */
import type { StoreConfig } from '../config';
import type { ArchiveStore } from './archiveStore';
import { createS3Client } from './s3/client';
import { S3Store } from './s3/s3Store';
import { LocalStore } from './local/localStore';

/** Where archives are kept: an S3 bucket and prefix (StoreConfig), or a folder (an external drive, a NAS mount). */
export type StoreLocation = ({ kind: 's3' } & StoreConfig) | { kind: 'file'; root: string };

export function openStore(location: StoreLocation): ArchiveStore {
  switch (location.kind) {
    case 's3':
      return new S3Store(createS3Client(location), location);
    case 'file':
      return new LocalStore({ root: location.root });
  }
}
