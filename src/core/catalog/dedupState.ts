/**
 * A small local record of the newest backup of each set of sources, per bucket and prefix, so
 * that an unchanged backup is recognised without reading any manifest (public-key mode cannot
 * read them). It is a cache: losing it only costs one catalog scan or one extra upload.
 * Writes are atomic (temp file + rename), so two processes never leave a torn file, and each
 * read-modify-write holds a lock file (see fileLock.ts), so neither loses the other's record.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { ArchiveStore } from '../store/archiveStore';
import { withFileLock } from '../fileLock';
import { writeFileAtomic } from '../util/atomicWrite';

interface Record {
  id: string;
  fingerprint: string;
}

type StateFile = { [store: string]: { [sources: string]: Record } };

const fileName = 'last-backups.json';

async function load(dir: string): Promise<StateFile> {
  try {
    const parsed = JSON.parse(await fs.readFile(path.join(dir, fileName), 'utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as StateFile) : {};
  } catch {
    return {};
  }
}

export async function lastBackup(dir: string, store: Pick<ArchiveStore, 'stateId'>, sources: string): Promise<Record | undefined> {
  const r = (await load(dir))[store.stateId]?.[sources];
  return r && typeof r.id === 'string' && typeof r.fingerprint === 'string' ? r : undefined;
}

export async function recordBackup(dir: string, store: Pick<ArchiveStore, 'stateId'>, sources: string, record: Record): Promise<void> {
  await update(dir, (state) => {
    (state[store.stateId] ??= {})[sources] = record;
  });
}

/** The records of one store: sources key → newest backup. */
export async function recordsOf(dir: string, store: Pick<ArchiveStore, 'stateId'>): Promise<{ sources: string; record: Record }[]> {
  const all = (await load(dir))[store.stateId] ?? {};
  return Object.entries(all)
    .filter(([, r]) => r && typeof r.id === 'string' && typeof r.fingerprint === 'string')
    .map(([sources, record]) => ({ sources, record }));
}

/** Forgets the record of these sources if it still names this archive. */
export async function forgetBackup(dir: string, store: Pick<ArchiveStore, 'stateId'>, sources: string, id: string): Promise<void> {
  await update(dir, (state) => {
    const records = state[store.stateId];
    if (records?.[sources]?.id === id) delete records[sources];
  });
}

async function update(dir: string, change: (state: StateFile) => void): Promise<void> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const file = path.join(dir, fileName);
  await withFileLock(file, async () => {
    const state = await load(dir);
    change(state);
    await writeFileAtomic(file, JSON.stringify(state));
  });
}
