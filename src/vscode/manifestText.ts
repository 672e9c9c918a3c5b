/**
 * "Show Manifest" as a person reads it: a header saying what the archive is, then one line per
 * entry as `ls -l` shows it (rwx modes, human sizes, local dates). Pure; shown in a read-only
 * document (reportDocuments.ts). The JSON stays in the bucket's format for tools (docs/format.md).
 */
import type { Manifest } from '../core/jobs/manifest';
import type { ManifestEntry } from '../core/model/entry';
import { formatBytes } from '../core/model/format';
import { className } from '../core/model/pricing';
import { localDate, plural, relativeTime } from './when';

/** "drwxr-xr-x", "-rw-r--r--", "lrwxrwxrwx"; setuid, setgid and sticky as ls shows them. */
export function modeString(type: ManifestEntry['type'], mode: number): string {
  const bits = ['r', 'w', 'x', 'r', 'w', 'x', 'r', 'w', 'x'].map((c, i) => ((mode >> (8 - i)) & 1 ? c : '-'));
  const special = (i: number, bit: number, set: string): void => {
    if (mode & bit) bits[i] = bits[i] === 'x' ? set : set.toUpperCase();
  };
  special(2, 0o4000, 's');
  special(5, 0o2000, 's');
  special(8, 0o1000, 't');
  return (type === 'directory' ? 'd' : type === 'symlink' ? 'l' : '-') + bits.join('');
}

/** The listing; a huge manifest shows its first `cap` entries and says how many more there are. */
export function manifestText(m: Manifest, now = new Date(), cap = 5000): string {
  const created = new Date(m.created);
  const lines = [
    m.label,
    `Backed up ${localDate(created)} (${relativeTime(created, now)}) on ${m.host}`,
    `Sources: ${m.sources.map((s) => s.path).join(', ')}`,
    `Contents: ${plural(m.fileCount, 'file')}, ${formatBytes(m.fileBytes)}; stored as ${formatBytes(m.archive.size)} in ${className(m.archive.storageClass)}`,
    `Encryption: ${m.encryption.mode === 'passphrase' ? 'passphrase' : `public key (${plural(m.encryption.recipients.length, 'recipient')})`}; compression: ${m.compression ?? 'none'}`,
    `Archive id: ${m.id}`,
  ];
  if (m.rebuilt) lines.push('This manifest was rebuilt from the archive by "check --repair".');
  if (m.skipped.length) lines.push(`Skipped at backup: ${plural(m.skipped.length, 'entry', 'entries')} (${m.skipped.slice(0, 3).map((s) => `${s.path}: ${s.reason}`).join('; ')}${m.skipped.length > 3 ? '; …' : ''})`);
  lines.push('');
  const shown = m.entries.slice(0, cap);
  const sizes = shown.map((e) => (e.type === 'file' ? formatBytes(e.size) : ''));
  const width = Math.max(4, ...sizes.map((s) => s.length));
  lines.push(`${'Mode'.padEnd(10)}  ${'Size'.padStart(width)}  ${'Modified'.padEnd(16)}  Path`);
  shown.forEach((e, i) => {
    const name = e.type === 'directory' ? `${e.path}/` : e.type === 'symlink' ? `${e.path} -> ${e.linkTarget ?? ''}` : e.path;
    lines.push(`${modeString(e.type, e.mode)}  ${sizes[i]!.padStart(width)}  ${localDate(new Date(e.mtime))}  ${name}`);
  });
  if (m.entries.length > cap) lines.push(`… and ${plural(m.entries.length - cap, 'more entry', 'more entries')} (use "Glacier Backup: Restore…" to search them all)`);
  return `${lines.join('\n')}\n`;
}
