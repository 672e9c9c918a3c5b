// `npm run demo`: a local S3 (moto on loopback) with a bucket, a sample folder backed up to it
// with the real CLI, then listed and browsed; then a real VS Code (code-server) with the extension
// installed and configured against the same emulator, whose URL is printed. No AWS account is
// needed; nothing leaves the machine. `npm run demo -- --no-vscode` stops after the CLI part.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const endpoint = `http://127.0.0.1:${port}`;
const moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
const work = mkdtempSync(join(tmpdir(), 'glacier-backup-demo-'));
let codeServer;
const cleanup = () => {
  if (codeServer?.pid) {
    try {
      process.kill(-codeServer.pid, 'SIGTERM');
    } catch {
      // already gone
    }
  }
  moto.kill();
  rmSync(work, { recursive: true, force: true });
};
process.on('exit', cleanup);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));

for (let i = 0; ; i++) {
  try {
    await fetch(endpoint);
    break;
  } catch {
    if (i > 150) throw new Error('the local S3 emulator (moto) did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
}
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'demo', secretAccessKey: 'demo' } });
await s3.send(new CreateBucketCommand({ Bucket: 'glacier-backup-demo' }));

const sample = join(work, 'my-project');
mkdirSync(join(sample, 'src'), { recursive: true });
mkdirSync(join(sample, 'node_modules', 'left-pad'), { recursive: true });
writeFileSync(join(sample, 'README.md'), '# My project\n\nImportant work.\n');
writeFileSync(join(sample, 'src', 'main.ts'), 'console.log("hello");\n');
writeFileSync(join(sample, 'src', 'notes — ünïcode.txt'), 'names with spaces and unicode work\n');
writeFileSync(join(sample, 'node_modules', 'left-pad', 'index.js'), '// excluded by default\n');

const env = {
  ...process.env,
  AWS_ACCESS_KEY_ID: 'demo',
  AWS_SECRET_ACCESS_KEY: 'demo',
  GLACIER_BACKUP_BUCKET: 'glacier-backup-demo',
  GLACIER_BACKUP_ENDPOINT: endpoint,
  GLACIER_BACKUP_PASSPHRASE: 'demo passphrase, use your own',
  GLACIER_BACKUP_STATE_DIR: join(work, 'state'),
};
const cli = (...args) => {
  console.log(`\n$ glacier-backup ${args.join(' ')}`);
  const res = spawnSync(process.execPath, ['dist/cli.js', ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (res.status !== 0) process.exit(res.status ?? 1);
};

console.log(`Local S3 emulator at ${endpoint}, bucket glacier-backup-demo; sample folder ${sample}`);
cli('backup', sample, '--label', 'My project');
cli('list');
const ids = spawnSync(process.execPath, ['dist/cli.js', 'list', '--json'], { env }).stdout.toString();
const id = JSON.parse(ids)[0].id;
cli('files', id);
cli('backup', sample);
console.log(`
What happened: the folder was packed into a tar, encrypted with OpenPGP (AES-256, readable by
stock gpg) and uploaded by multipart to the DEEP_ARCHIVE storage class; an encrypted manifest
went to STANDARD so that listing and browsing need no Glacier restore. The second backup found
the content unchanged and uploaded nothing. Everything ran against a local emulator.`);

if (process.argv.includes('--no-vscode')) {
  cleanup();
  process.exit(0);
}

// The same bucket in a real VS Code: code-server (Node 24, installed into .e2e/ on first use).
const { ensureCodeServer, node24, codeServerEntry } = await import('./e2e-setup.mjs');
ensureCodeServer();
const { createVSIX } = await import('@vscode/vsce');
const vsix = join(work, 'glacier-backup.vsix');
const log = console.log;
console.log = () => undefined; // vsce lists every packaged file
try {
  await createVSIX({ cwd: process.cwd(), packagePath: vsix, dependencies: false, allowMissingRepository: true });
} finally {
  console.log = log;
}
const userData = join(work, 'vscode', 'user-data');
const extensions = join(work, 'vscode', 'extensions');
mkdirSync(join(userData, 'User'), { recursive: true });
mkdirSync(join(userData, 'Machine'), { recursive: true });
const settings = (file, values) => writeFileSync(join(userData, file), JSON.stringify(values, null, 2));
// No chat panel, AI features or tips: the demo is about this extension.
settings('User/settings.json', {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.tips.enabled': false,
  'glacierBackup.pollIntervalSeconds': 10,
});
// The store settings have "machine" scope; code-server reads them from the machine's settings.
settings('Machine/settings.json', { 'glacierBackup.bucket': 'glacier-backup-demo', 'glacierBackup.endpoint': endpoint, 'glacierBackup.region': 'us-east-1' });
const csEnv = { ...env, XDG_CONFIG_HOME: join(work, 'vscode', 'xdg-config'), XDG_DATA_HOME: join(work, 'vscode', 'xdg-data') };
delete csEnv.GLACIER_BACKUP_PASSPHRASE; // the extension asks for it and keeps it in SecretStorage
spawnSync(node24(), [codeServerEntry(), '--user-data-dir', userData, '--extensions-dir', extensions, '--install-extension', vsix], { env: csEnv, stdio: 'ignore' });
const csPort = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
codeServer = spawn(
  node24(),
  [codeServerEntry(), '--auth', 'none', '--bind-addr', `127.0.0.1:${csPort}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust',
    '--user-data-dir', userData, '--extensions-dir', extensions, sample],
  { env: csEnv, stdio: 'ignore', detached: true },
);
const url = `http://127.0.0.1:${csPort}/?folder=${encodeURIComponent(sample)}`;
for (let i = 0; ; i++) {
  try {
    if ((await fetch(`http://127.0.0.1:${csPort}/healthz`)).ok) break;
  } catch {
    // not up yet
  }
  if (i > 300) throw new Error('code-server did not start');
  await new Promise((r) => setTimeout(r, 200));
}
console.log(`
VS Code (code-server) with Glacier Backup, against the same local S3 emulator:

  ${url}

Open the Glacier Backup view in the activity bar to see the archive above. Right-click a folder →
"Back up to Glacier" (passphrase: "demo passphrase, use your own"), then "Glacier Backup:
Restore…" from the command palette: the emulator restores at once, and the extension tells you
when to Download & Decrypt. Right-click a file → "Show Backed-up Versions" to compare it with a
backed-up version. "Glacier Backup: Show Log" opens the extension's log (code-server cannot show
the Output view's log channel, so the extension opens its plain log file there).`);
console.log(`\nRunning until stopped (Ctrl-C, or kill ${process.pid}).`);
await new Promise(() => undefined);
