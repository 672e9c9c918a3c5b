/**
 * Removing an object that must not stay (an archive whose manifest could not be written, an
 * upload found different from what was sent) and saying truthfully what stays when it cannot be.
 */
import { describeError } from '../errors';
import type { ArchiveStore } from './archiveStore';

/**
 * Deletes an object that must not stay. Returns undefined once deleted, else what to tell the
 * user, as a predicate: "could not be deleted (why) and stays in the bucket as KEY: remove it with …".
 */
export async function deleteOrSay(store: Pick<ArchiveStore, 'delete' | 'objectKey'>, key: string, what: string): Promise<string | undefined> {
  try {
    await store.delete(key, { action: `delete the ${what}` });
    return undefined;
  } catch (err) {
    return `could not be deleted (${describeError(err)}) and stays in the bucket as ${store.objectKey(key)}: remove it with "glacier-backup check --repair --delete-orphan-archives" run with credentials that may delete (that deletes every archive without a manifest: see "glacier-backup check" first)`;
  }
}
