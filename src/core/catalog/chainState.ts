/**
 * Public-key mode cannot read manifests, so an increment there continues from a local copy of the
 * newest snapshot's manifest of each set of sources, per bucket and prefix (docs/format.md, "Local
 * state"). It is a cache, as dedupState.ts is: losing it only makes the next backup a full one. It
 * holds file names in plaintext, so it is written only into the state folder (0700), and it is
 * read back as untrusted, through the manifest reader's checks.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ArchiveStore } from '../store/archiveStore';
import { writeFileAtomic } from '../util/atomicWrite';
import { manifestJson, parseManifest, type Manifest, type NewManifest } from './manifest';

function fileOf(dir: string, store: Pick<ArchiveStore, 'stateId'>, sources: string): string {
  const name = createHash('sha256').update(`${store.stateId}\n${sources}`).digest('hex').slice(0, 32);
  return path.join(dir, 'manifests', `${name}.json`);
}

export async function saveLastManifest(dir: string, store: Pick<ArchiveStore, 'stateId'>, sources: string, m: NewManifest): Promise<void> {
  const file = fileOf(dir, store, sources);
  await fs.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, [...manifestJson(m)].join(''));
}

/** The newest snapshot's manifest of these sources as this machine wrote it, if it is there and valid. */
export async function loadLastManifest(dir: string, store: Pick<ArchiveStore, 'stateId'>, sources: string): Promise<Manifest | undefined> {
  try {
    const bytes = await fs.readFile(fileOf(dir, store, sources));
    const id = (JSON.parse(bytes.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' ? parseManifest(bytes, id) : undefined;
  } catch {
    return undefined;
  }
}
