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

async function askStep(name: StepName, place: StepPlace, a: Answers): Promise<StepAnswer<true>> {
  const text = async (options: Parameters<typeof inputStep>[1], apply: (v: string) => void): Promise<StepAnswer<true>> => {
    const v = await inputStep(place, options);
    if (v === undefined || v === 'back') return v;
    apply(v);
    return true;
  };
  const choose = async <T extends string>(items: { label: string; description: string; value: T }[], current: T, apply: (v: T) => void): Promise<StepAnswer<true>> => {
    const v = await pickStep(place, items, { active: items.find((i) => i.value === current) });
    if (v === undefined || v === 'back') return v;
    apply(v.value);
    return true;
  };
  switch (name) {
    case 'where':
      return choose(
        [
          { label: 'S3 bucket', description: 'S3 Glacier Deep Archive on AWS, or an S3-compatible store', value: 's3' as const },
          { label: 'Local folder', description: 'an external drive, a NAS mount: the same layout, no restore wait', value: 'file' as const },
        ],
        a.kind,
        (v) => (a.kind = v),
      );
    case 'bucket':
      return text(
        { value: a.bucket, prompt: 'The S3 bucket that receives the archives (if it does not exist, the check at the end offers to create it).', validate: (v) => (/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v) ? undefined : 'A bucket name: 3–63 lowercase letters, digits, dots and hyphens') },
        (v) => (a.bucket = v),
      );
    case 'region':
      return text({ value: a.region, prompt: "The bucket's AWS region, e.g. eu-central-1 (empty: from your AWS configuration)." }, (v) => (a.region = v));
    case 'endpoint':
      return text(
        { value: a.endpoint, prompt: 'Only for S3-compatible stores (e.g. https://s3.example.com); leave empty for AWS.', validate: (v) => (v === '' || /^https?:\/\/\S+$/.test(v) ? undefined : 'A URL starting with https:// (or empty)') },
        (v) => (a.endpoint = v),
      );
    case 'credentials':
      return choose(
        [
          { label: 'AWS profile or default credential chain', description: 'environment, ~/.aws, SSO, instance role', value: 'awsChain' as const },
          { label: 'Access key kept in VS Code SecretStorage', description: 'entered once, never written to settings', value: 'secretStorage' as const },
        ],
        a.credentials,
        (v) => (a.credentials = v),
      );
    case 'folder':
      return text(
        {
          value: a.folder,
          prompt: 'The folder that receives the archives: on an external drive or a NAS mount, not on the disk being backed up.',
          placeholder: 'an absolute path, or Browse… (the folder button)',
          validate: (v) => (path.isAbsolute(v) ? undefined : 'An absolute path, e.g. /media/backup/glacier'),
          buttons: [{ button: { iconPath: new vscode.ThemeIcon('folder-opened'), tooltip: 'Browse…' }, run: browseFolder }],
        },
        (v) => (a.folder = v),
      );
    case 'encryption':
      return choose(
        [
          { label: 'Passphrase', description: 'one secret opens everything; kept in SecretStorage', value: 'passphrase' as const },
          { label: 'Public keys', description: 'this machine can back up what it cannot read', value: 'publicKey' as const },
        ],
        a.encryption,
        (v) => (a.encryption = v),
      );
  }
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
