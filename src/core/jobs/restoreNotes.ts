/**
 * What a restore tells the user about entries it wrote under another name or left out on this
 * system (safeExtract.ts sets their `note`): one line per such entry, for a summary that lists
 * them all. Never more than the notes themselves: an empty list when every entry is as archived.
 */
import type { ExtractedEntry } from '../pack/safeExtract';
import { printable } from '../pack/entryRules';

export function restoreNotes(entries: readonly ExtractedEntry[]): string[] {
  return entries.filter((e) => e.note !== undefined).map((e) => `"${printable(e.path)}": ${e.note}`);
}

/**
 * The end of a restore's summary line: how many entries differ on this system (those inside a
 * renamed folder count, though only the folder has a note), or nothing.
 */
export function restoreNotesSummary(entries: readonly ExtractedEntry[], where = 'the notes above'): string {
  const renamed = entries.filter((e) => e.localPath !== undefined).length;
  const left = entries.filter((e) => e.leftOut).length;
  const parts = [renamed ? `${renamed} under other names` : '', left ? `${left} left out` : ''].filter(Boolean);
  return parts.length ? ` (${parts.join(', ')}; see ${where})` : '';
}
