/**
 * The stores the conformance suite (test/integration/store-conformance.test.ts) runs against.
 * Each factory starts what its stores need once per test file and hands out a new, empty store
 * for each test (a new folder, a new prefix). Adding an implementation is one entry in
 * `storeFactories`.
 */
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { ArchiveStore } from '../../src/core/store/archiveStore';
import { LocalStore } from '../../src/core/store/local/localStore';
import { openStore } from '../../src/core/jobs/openStore';
import type { StorageClass } from '../../src/core/config';
import { startMoto, type Moto } from './moto';
import { startFaultProxy, type FaultProxy } from './faultProxy';
import { tempDir } from './tree';

export interface StoreFactory {
  /** Shown in the test names. */
  name: string;
  /** Starts what the stores need (a server, a proxy); once per test file. */
  start(): Promise<void>;
  /** A new, empty store for one test. */
  create(): Promise<ArchiveStore>;
  /**
   * What the store holds besides its objects, as names for a message: temporary files,
   * unfinished uploads. Empty once every open upload was aborted.
   */
  leftovers(store: ArchiveStore): Promise<string[]>;
  stop(): Promise<void>;
  /** Live memory (heap + buffers, MiB) that a put or a read of a 40 MiB object may hold at most. */
  memoryMiB: number;
}

/** LocalStore over a fresh folder under the system's temporary folder. */
export function localFolderFactory(): StoreFactory {
  let base = '';
  let n = 0;
  const roots = new Map<ArchiveStore, string>();
  return {
    name: 'local folder',
    async start() {
      base = tempDir('gb-store-');
    },
    async create() {
      const root = path.join(base, `store-${++n}`);
      // The store never creates its root folder: a user (or a mounted drive) does.
      mkdirSync(root);
      const store = new LocalStore({ root });
      roots.set(store, root);
      return store;
    },
    async leftovers(store) {
      const root = roots.get(store)!;
      const objects = new Set<string>();
      for await (const o of store.list('')) objects.add(o.key);
      return filesUnder(root).filter((f) => !objects.has(f));
    },
    async stop() {
      if (base) rmSync(base, { recursive: true, force: true });
    },
    memoryMiB: 16,
  };
}

/** Every file below `root` (hidden ones included), relative, with "/". */
function filesUnder(root: string, rel = ''): string[] {
  const out: string[] = [];
  for (const name of readdirSync(path.join(root, rel))) {
    const child = rel ? `${rel}/${name}` : name;
    if (statSync(path.join(root, child)).isDirectory()) out.push(...filesUnder(root, child));
    else out.push(child);
  }
  return out;
}

/**
 * S3Store on moto: a bucket per factory, a new prefix per store; `through: 'proxy'` puts the
 * fault proxy (with no fault set) between them, as the fault tests do. `storageClass` DEEP_ARCHIVE
 * gives the cold-storage branch of the suite.
 */
export function s3Factory(name: string, options: { storageClass: StorageClass; through?: 'proxy' }): StoreFactory {
  let moto: Moto | undefined;
  let proxy: FaultProxy | undefined;
  let n = 0;
  const bucket = 'conformance';
  const prefixes = new Map<ArchiveStore, string>();
  return {
    name,
    async start() {
      // AWS checks If-None-Match atomically; plain moto does not (see moto_conditional.py).
      moto = await startMoto({}, undefined, { atomicConditionalWrites: true });
      await moto.createBucket(bucket);
      if (options.through === 'proxy') proxy = await startFaultProxy(moto.endpoint);
    },
    async create() {
      const prefix = `store-${++n}/`;
      const store = openStore({
        kind: 's3',
        bucket,
        prefix,
        endpoint: proxy?.endpoint ?? moto!.endpoint,
        forcePathStyle: true,
        storageClass: options.storageClass,
        credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      });
      prefixes.set(store, prefix);
      return store;
    },
    async leftovers(store) {
      const prefix = prefixes.get(store)!;
      return (await moto!.openUploads(bucket)).filter((k) => k.startsWith(prefix)).map((k) => `unfinished upload of ${k}`);
    },
    async stop() {
      await proxy?.close();
      await moto?.stop();
    },
    // Part buffers (queue size × 8 MiB parts) and the SDK's own.
    memoryMiB: 64,
  };
}

/**
 * Every implementation the conformance suite runs against: the local folder, and S3Store on moto
 * (STANDARD; the same behind the fault proxy with no fault set; DEEP_ARCHIVE, the cold branch).
 */
export const storeFactories: StoreFactory[] = [
  localFolderFactory(),
  s3Factory('S3 on moto (STANDARD)', { storageClass: 'STANDARD' }),
  s3Factory('S3 on moto behind the fault proxy', { storageClass: 'STANDARD', through: 'proxy' }),
  s3Factory('S3 on moto (DEEP_ARCHIVE)', { storageClass: 'DEEP_ARCHIVE' }),
];
