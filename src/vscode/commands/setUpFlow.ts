/** The Set up… command: the first-run walk through the settings and secrets. */
import * as vscode from 'vscode';
import { section } from '../settings';
import { checkBucketFlow } from './checkBucketFlow';
import type { Services } from './services';

/** First-run set-up: bucket, region, endpoint, credentials, encryption. */
export async function setUpFlow(s: Services): Promise<void> {
  const config = vscode.workspace.getConfiguration(section);
  const set = (k: string, v: unknown): Thenable<void> => config.update(k, v, vscode.ConfigurationTarget.Global);
  // A text setting, asked with its current value; undefined when the user backs out.
  const ask = (key: string, title: string, prompt: string, validate?: (v: string) => boolean, invalid = ''): Thenable<string | undefined> =>
    vscode.window.showInputBox({
      title: `Glacier Backup set-up ${title}`,
      prompt,
      value: config.get<string>(key, ''),
      ignoreFocusOut: true,
      ...(validate ? { validateInput: (v: string) => (validate(v.trim()) ? undefined : invalid) } : {}),
    });
  const bucket = await ask('bucket', '(1/5): bucket', 'The S3 bucket that receives the archives (it must exist).', (v) => /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(v), 'A bucket name: 3–63 lowercase letters, digits, dots and hyphens');
  if (bucket === undefined) return;
  const region = await ask('region', '(2/5): region', 'The bucket\'s AWS region, e.g. eu-central-1 (empty: from your AWS configuration).');
  if (region === undefined) return;
  const endpoint = await ask('endpoint', '(3/5): endpoint (optional)', 'Only for S3-compatible stores (e.g. https://s3.example.com); leave empty for AWS.', (v) => v === '' || /^https?:\/\/\S+$/.test(v), 'A URL starting with https:// (or empty)');
  if (endpoint === undefined) return;
  const cred = await vscode.window.showQuickPick(
    [
      { label: 'AWS profile or default credential chain', description: 'environment, ~/.aws, SSO, instance role', value: 'awsChain' },
      { label: 'Access key kept in VS Code SecretStorage', description: 'entered once, never written to settings', value: 'secretStorage' },
    ],
    { title: 'Glacier Backup set-up (4/5): credentials', ignoreFocusOut: true },
  );
  if (!cred) return;
  const mode = await vscode.window.showQuickPick(
    [
      { label: 'Passphrase', description: 'one secret opens everything; kept in SecretStorage', value: 'passphrase' },
      { label: 'Public keys', description: 'this machine can back up what it cannot read', value: 'publicKey' },
    ],
    { title: 'Glacier Backup set-up (5/5): encryption', ignoreFocusOut: true },
  );
  if (!mode) return;
  await set('bucket', bucket.trim());
  await set('region', region.trim());
  await set('endpoint', endpoint.trim());
  await set('credentials', cred.value);
  await set('encryption', mode.value);
  s.connection.reset();
  if (cred.value === 'secretStorage' && !(await s.connection.secrets.awsCredentials(false))) await s.connection.secrets.setAwsCredentials();
  if (mode.value === 'passphrase' && !(await s.connection.secrets.storedPassphrase())) await s.connection.secrets.setPassphrase();
  if (mode.value === 'publicKey') {
    const files = await vscode.window.showOpenDialog({ title: 'Recipient public keys (armored .asc)', canSelectMany: true, filters: { 'OpenPGP keys': ['asc', 'pub', 'key'] } });
    if (files?.length) await set('recipients', files.map((f) => f.fsPath));
  }
  await s.catalog.refresh();
  const next = await vscode.window.showInformationMessage('Glacier Backup is set up. Check the bucket now (access, versioning, lifecycle rule)?', 'Check Bucket');
  if (next) await checkBucketFlow(s);
}
