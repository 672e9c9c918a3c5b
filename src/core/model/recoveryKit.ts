/**
 * The recovery kit: one printable page with everything needed to get the backups back without
 * this tool or this computer: where they are, how they are encrypted (key fingerprints, never a
 * key), the exact commands for AWS CLI + GnuPG + tar, and a place to write the passphrase by
 * hand. The passphrase itself is on it only when the user asks (`passphrase`).
 */
import { pathToFileURL } from 'node:url';
import { shellWord } from '../util/shellWord';

/** An S3 bucket and prefix ("" or ending in "/"), or a folder (a local-folder store). */
export type KitStore = { kind: 's3'; bucket: string; prefix: string; region?: string; endpoint?: string; storageClass: string } | { kind: 'file'; root: string };

export interface RecoveryKitInput {
  store: KitStore;
  encryption: { mode: 'passphrase'; passphrase?: string } | { mode: 'public-key'; recipients: { fingerprint: string; userIds: string[] }[] };
  created: Date;
  host: string;
  toolVersion: string;
}

type Block = { kind: 'h1' | 'h2' | 'p'; text: string } | { kind: 'list'; items: string[] } | { kind: 'code'; text: string };


/** The commands, with ID standing for an archive id; a fenced `sh` block of its own. */
export function byHandCommands(store: KitStore): string {
  if (store.kind === 'file') {
    const dir = (sub: string): string => shellWord(`${store.root.replace(/\/+$/, '')}/${sub}`);
    return [
      '# 1. The archives, newest last (an id is its UTC creation time and 16 random hex digits):',
      `ls ${dir('catalog/')}`,
      'ID=20250101T000000Z-0123456789abcdef   # the one you want',
      '# 2. What it holds (its manifest):',
      `gpg -d < ${dir('catalog/')}"$ID.json.gpg" | less`,
      '# 3. Decrypt and unpack into the current folder:',
      `gpg -d < ${dir('archives/')}"$ID.tar.gpg" | tar x`,
    ].join('\n');
  }
  const k = store;
  const opts = [...(k.region ? ['--region', k.region] : []), ...(k.endpoint ? ['--endpoint-url', k.endpoint] : [])].map(shellWord).join(' ');
  const aws = (args: string): string => `aws ${args}${opts ? ` ${opts}` : ''}`;
  const s3 = (key: string): string => shellWord(`s3://${k.bucket}/${k.prefix}${key}`);
  const archiveKey = `${shellWord(`${k.prefix}archives/`)}"$ID.tar.gpg"`;
  return [
    '# 1. The archives, newest last (an id is its UTC creation time and 16 random hex digits):',
    aws(`s3 ls ${s3('catalog/')}`),
    'ID=20250101T000000Z-0123456789abcdef   # the one you want',
    '# 2. What it holds (its manifest, in S3 Standard: no restore needed):',
    `${aws(`s3 cp ${s3('catalog/')}"$ID.json.gpg" -`)} | gpg -d | less`,
    '# 3. Ask for a temporary copy of the archive (Bulk: within 48 hours, cheapest; Standard: 12):',
    `${aws(`s3api restore-object --bucket ${shellWord(k.bucket)} --key ${archiveKey}`)} --restore-request '{"Days":7,"GlacierJobParameters":{"Tier":"Bulk"}}'`,
    '# 4. Ready when this says ongoing-request="false":',
    `${aws(`s3api head-object --bucket ${shellWord(k.bucket)} --key ${archiveKey}`)} --query Restore`,
    '# 5. Download, decrypt and unpack into the current folder:',
    `${aws(`s3 cp ${s3('archives/')}"$ID.tar.gpg" -`)} | gpg -d | tar x`,
  ].join('\n');
}

function whereBlocks(store: KitStore): Block[] {
  if (store.kind === 'file') {
    return [
      { kind: 'h2', text: 'Where the backups are' },
      { kind: 'list', items: [`Folder: ${store.root} (on which drive or server: ______________________________)`, `Archives: ${store.root}/archives/ID.tar.gpg`, `Manifests (what each archive holds): ${store.root}/catalog/ID.json.gpg`] },
    ];
  }
  const where = `s3://${store.bucket}/${store.prefix}`;
  return [
    { kind: 'h2', text: 'Where the backups are' },
    {
      kind: 'list',
      items: [
        `Store: ${where}${store.region ? ` (region ${store.region})` : ''}${store.endpoint ? ` at ${store.endpoint}` : ''}`,
        `Archives: ${where}archives/ID.tar.gpg, in ${store.storageClass}`,
        `Manifests (what each archive holds): ${where}catalog/ID.json.gpg, in S3 Standard`,
        'AWS account and the user whose keys can read them: ______________________________________',
      ],
    },
  ];
}

function encryptionBlocks(k: RecoveryKitInput): Block[] {
  if (k.encryption.mode === 'passphrase') {
    return [
      { kind: 'p', text: 'Passphrase mode: every archive and manifest is an OpenPGP message encrypted with a passphrase (AES-256), which `gpg -d` asks for.' },
      {
        kind: 'p',
        text:
          k.encryption.passphrase !== undefined
            ? `Passphrase: ${k.encryption.passphrase}`
            : 'Passphrase (write it here by hand; earlier passphrases too, if you changed it): ______________________________________',
      },
    ];
  }
  return [
    { kind: 'p', text: 'Public-key mode: every archive and manifest is encrypted to these OpenPGP keys; any one of their private keys opens them (`gpg -d` finds it in your keyring: `gpg --import private.asc` first).' },
    { kind: 'list', items: k.encryption.recipients.map((r) => `${r.fingerprint.replace(/(.{4})(?!$)/g, '$1 ')}${r.userIds.length ? ` (${r.userIds.join(', ')})` : ''}`) },
    { kind: 'p', text: 'Where the private key is kept (and its passphrase): ______________________________________' },
  ];
}

function blocks(k: RecoveryKitInput): Block[] {
  const s = k.store;
  const reopen = s.kind === 's3' ? `--bucket ${s.bucket} --prefix ${s.prefix || '/'}${s.region ? ` --region ${s.region}` : ''}` : `--store ${pathToFileURL(s.root).href}`;
  return [
    { kind: 'h1', text: 'Glacier Backup recovery kit' },
    { kind: 'p', text: `Made ${k.created.toISOString().slice(0, 10)} on ${k.host} by glacier-backup ${k.toolVersion}. Keep it on paper or offline, away from the computer it protects.` },
    ...whereBlocks(s),
    { kind: 'h2', text: 'How they are encrypted' },
    ...encryptionBlocks(k),
    { kind: 'h2', text: 'Restoring without Glacier Backup' },
    { kind: 'p', text: `Needs ${s.kind === 's3' ? 'the AWS CLI (with credentials that may read the bucket), ' : ''}GnuPG and tar. Each archive is a whole tar of the folders it backed up.` },
    { kind: 'code', text: byHandCommands(s) },
    { kind: 'p', text: `With Glacier Backup: glacier-backup ${reopen} list, then restore ID and download ID DEST.` },
  ];
}

export function recoveryKitMarkdown(k: RecoveryKitInput): string {
  return blocks(k)
    .map((b) => {
      if (b.kind === 'h1') return `# ${b.text}`;
      if (b.kind === 'h2') return `## ${b.text}`;
      if (b.kind === 'list') return b.items.map((i) => `- ${i}`).join('\n');
      if (b.kind === 'code') return `\`\`\`sh\n${b.text}\n\`\`\``;
      return b.text;
    })
    .join('\n\n')
    .concat('\n');
}

const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function recoveryKitHtml(k: RecoveryKitInput): string {
  const inline = (text: string): string => escapeHtml(text).replace(/`([^`]+)`/g, '<code>$1</code>');
  const body = blocks(k)
    .map((b) => {
      if (b.kind === 'h1' || b.kind === 'h2') return `<${b.kind}>${inline(b.text)}</${b.kind}>`;
      if (b.kind === 'list') return `<ul>${b.items.map((i) => `<li>${inline(i)}</li>`).join('')}</ul>`;
      if (b.kind === 'code') return `<pre>${escapeHtml(b.text)}</pre>`;
      return `<p>${inline(b.text)}</p>`;
    })
    .join('\n');
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Glacier Backup recovery kit</title>
<style>body{font:11pt/1.45 serif;max-width:44em;margin:2em auto}pre{font-size:8.5pt;white-space:pre-wrap;border:1px solid #999;padding:.6em}code{font-size:90%}@media print{body{margin:0}}</style>
</head><body>\n${body}\n</body></html>\n`;
}
