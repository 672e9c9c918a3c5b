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
 * Every implementation the conformance suite runs against.
 *
 * S3 GOES HERE once `S3Store` (src/core/store/s3/) is on main: one factory on moto
 * (test/helpers/moto.ts: startMoto + createBucket in start(), a new prefix per create(),
 * `moto.openUploads(bucket)` filtered by the prefix as leftovers) and the same behind
 * test/helpers/faultProxy.ts (startFaultProxy(moto.endpoint), the store's endpoint set to the
 * proxy's), each with storageClass 'STANDARD'; and one with 'DEEP_ARCHIVE' for the cold-storage
 * branch of the requestRestore case. memoryMiB: its part buffers (queue size × part size) + 16.
 */
export const storeFactories: StoreFactory[] = [localFolderFactory()];
