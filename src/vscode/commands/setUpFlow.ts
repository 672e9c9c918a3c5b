/**
 * The Set Up… command: one multi-step input (stepInput.ts) through where the archives go (an S3
 * bucket or a folder), how to reach it and how to encrypt, with Back and the current values
 * shown; then the answers are saved and checked live (setUpCheck.ts), so "set up" is said only
 * once the store was reached.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { formatStoreUrl, parseStoreUrl } from '../../core/config';
import { section, type Settings } from '../settings';
import { isConfigured } from '../storeLocation';
import { checkSetUp } from './setUpCheck';
import type { Services } from './services';
import { inputStep, pickStep, type StepAnswer, type StepPlace } from './stepInput';

interface Answers {
  kind: 's3' | 'file';
  bucket: string;
  /** The prefix of a `glacierBackup.store` s3:// URL, kept when the answers are saved. */
  urlPrefix?: string;
  region: string;
  endpoint: string;
  credentials: Settings['credentials'];
  folder: string;
  encryption: Settings['encryption'];
}

type StepName = 'where' | 'bucket' | 'region' | 'endpoint' | 'credentials' | 'folder' | 'encryption';

const stepTitles: Record<StepName, string> = {
  where: 'where archives go',
  bucket: 'bucket',
  region: 'region',
  endpoint: 'endpoint (optional)',
  credentials: 'credentials',
  folder: 'folder',
  encryption: 'encryption',
};

function stepsOf(a: Answers): StepName[] {
  return a.kind === 's3' ? ['where', 'bucket', 'region', 'endpoint', 'credentials', 'encryption'] : ['where', 'folder', 'encryption'];
}

/** Set Up…: the steps, then save and check. Escape at any step changes nothing. */
export async function setUpFlow(s: Services): Promise<void> {
  const a = currentAnswers(s.connection.settings());
  for (let i = 0; i < stepsOf(a).length; ) {
    const steps = stepsOf(a);
    const place = { title: `Glacier Backup set-up: ${stepTitles[steps[i]!]}`, step: i + 1, totalSteps: steps.length };
    const answer = await askStep(steps[i]!, place, a);
    if (answer === undefined) return;
    i = answer === 'back' ? Math.max(0, i - 1) : i + 1;
  }
  await save(s, a);
  await checkSetUp(s, a.kind);
}

/**
 * A backup asked for before anything is set up starts Set Up (rather than asking for a new
 * passphrase for nowhere). True when a store is configured afterwards, so the backup goes on.
 */
export async function ensureSetUp(s: Services): Promise<boolean> {
  if (isConfigured(s.connection.settings())) return true;
  await setUpFlow(s);
  return isConfigured(s.connection.settings());
}

function currentAnswers(settings: Settings): Answers {
  let url;
  try {
    url = settings.store ? parseStoreUrl(settings.store, 'setting glacierBackup.store') : undefined;
  } catch {
    url = undefined; // a misspelt URL: set-up is how it gets replaced
  }
  return {
    kind: url?.kind ?? 's3',
    bucket: url?.kind === 's3' ? url.bucket : settings.bucket,
    ...(url?.kind === 's3' ? { urlPrefix: url.prefix } : {}),
    region: settings.region,
    endpoint: settings.endpoint,
    credentials: settings.credentials,
    folder: url?.kind === 'file' ? url.root : '',
    encryption: settings.encryption,
  };
}

type Choice<T extends string> = { label: string; description: string; value: T };
type PickField = 'kind' | 'credentials' | 'encryption';
type TextField = 'bucket' | 'region' | 'endpoint' | 'folder';

/** The steps answered by a pick: the field each sets and its choices. */
const picks: Partial<Record<StepName, PickField>> = { where: 'kind', credentials: 'credentials', encryption: 'encryption' };
const choices: { [K in PickField]: Choice<Answers[K]>[] } = {
  kind: [
    { label: 'S3 bucket', description: 'S3 Glacier Deep Archive on AWS, or an S3-compatible store', value: 's3' },
    { label: 'Local folder', description: 'an external drive, a NAS mount: the same layout, no restore wait', value: 'file' },
  ],
  credentials: [
    { label: 'AWS profile or default credential chain', description: 'environment, ~/.aws, SSO, instance role', value: 'awsChain' },
    { label: 'Access key kept in VS Code SecretStorage', description: 'entered once, never written to settings', value: 'secretStorage' },
  ],
  encryption: [
    { label: 'Passphrase', description: 'one secret opens everything; kept in SecretStorage', value: 'passphrase' },
    { label: 'Public keys', description: 'this machine can back up what it cannot read', value: 'publicKey' },
  ],
};

/** The steps answered by typing: the field each sets, and how its box is shown and checked. */
const texts: Partial<Record<StepName, { field: TextField } & Omit<Parameters<typeof inputStep>[1], 'value'>>> = {
  bucket: {
    field: 'bucket',
    prompt: 'The S3 bucket that receives the archives (if it does not exist, the check at the end offers to create it).',
    validate: (v) => (/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v) ? undefined : 'A bucket name: 3–63 lowercase letters, digits, dots and hyphens'),
  },
  region: { field: 'region', prompt: "The bucket's AWS region, e.g. eu-central-1 (empty: from your AWS configuration)." },
  endpoint: {
    field: 'endpoint',
    prompt: 'Only for S3-compatible stores (e.g. https://s3.example.com); leave empty for AWS.',
    validate: (v) => (v === '' || /^https?:\/\/\S+$/.test(v) ? undefined : 'A URL starting with https:// (or empty)'),
  },
  folder: {
    field: 'folder',
    prompt: 'The folder that receives the archives: on an external drive or a NAS mount, not on the disk being backed up.',
    placeholder: 'an absolute path, or Browse… (the folder button)',
    validate: (v) => (path.isAbsolute(v) ? undefined : 'An absolute path, e.g. /media/backup/glacier'),
    buttons: [{ button: { iconPath: new vscode.ThemeIcon('folder-opened'), tooltip: 'Browse…' }, run: browseFolder }],
  },
};

async function askStep(name: StepName, place: StepPlace, a: Answers): Promise<StepAnswer<true>> {
  const answers = a as unknown as Record<PickField | TextField, string>;
  const field = picks[name];
  if (field) {
    const items: Choice<string>[] = choices[field];
    const v = await pickStep(place, items, { active: items.find((i) => i.value === answers[field]) });
    if (v === undefined || v === 'back') return v;
    answers[field] = v.value;
    return true;
  }
  const { field: textField, ...options } = texts[name]!;
  const v = await inputStep(place, { ...options, value: answers[textField] });
  if (v === undefined || v === 'back') return v;
  answers[textField] = v;
  return true;
}

async function browseFolder(box: vscode.InputBox): Promise<void> {
  const picked = await vscode.window.showOpenDialog({ title: 'Folder for the archives', canSelectFolders: true, canSelectFiles: false, openLabel: 'Use This Folder', ...(box.value && path.isAbsolute(box.value) ? { defaultUri: vscode.Uri.file(box.value) } : {}) });
  if (picked?.[0]) box.value = picked[0].fsPath;
}

/** Writes the answers (machine-wide settings) and asks for the secrets they need but are not stored yet. */
async function save(s: Services, a: Answers): Promise<void> {
  const config = vscode.workspace.getConfiguration(section);
  const set = (k: string, v: unknown): Thenable<void> => config.update(k, v, vscode.ConfigurationTarget.Global);
  if (a.kind === 'file') {
    await set('store', formatStoreUrl({ kind: 'file', root: a.folder }));
  } else {
    // The bucket settings name an S3 store; an s3:// URL's prefix is kept in glacierBackup.prefix.
    await set('store', undefined);
    if (a.urlPrefix !== undefined) await set('prefix', a.urlPrefix);
    await set('bucket', a.bucket);
    await set('region', a.region);
    await set('endpoint', a.endpoint);
    await set('credentials', a.credentials);
  }
  await set('encryption', a.encryption);
  s.connection.reset();
  const secrets = s.connection.secrets;
  if (a.kind === 's3' && a.credentials === 'secretStorage' && !(await secrets.awsCredentials(false))) await secrets.setAwsCredentials();
  if (a.encryption === 'passphrase' && !(await secrets.storedPassphrase())) await secrets.setPassphrase();
  if (a.encryption === 'publicKey') {
    const files = await vscode.window.showOpenDialog({ title: 'Recipient public keys (armored .asc)', canSelectMany: true, filters: { 'OpenPGP keys': ['asc', 'pub', 'key'] } });
    if (files?.length) await set('recipients', files.map((f) => f.fsPath));
  }
}
