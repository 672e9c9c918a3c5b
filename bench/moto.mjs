// A moto server on a free loopback port for the bench scenarios (daily.mjs, list.mjs), stopped
// when the process exits; and bash commands run without blocking this process.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

/**
 * Starts moto; resolves with its port and URL once it answers. With `restoreStatus`, moto patched
 * so that ListObjectsV2 reports RestoreStatus when asked, as AWS S3 does
 * (test/helpers/moto_restore_status.py; without the request header it is moto as shipped).
 */
export async function startMoto({ restoreStatus = false } = {}) {
  const port = await freePort();
  const script = fileURLToPath(new URL('../test/helpers/moto_restore_status.py', import.meta.url));
  const args = restoreStatus ? [script, '127.0.0.1', String(port)] : ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)];
  const moto = spawn('python3', args, { stdio: 'ignore' });
  process.on('exit', () => moto.kill());
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      await fetch(url);
      return { port, url };
    } catch {
      if (i > 150) throw new Error('moto did not start');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Runs `cmd` in bash without blocking this process (a proxy may live here); resolves with its status and the end of its output. */
export function run(cmd, env) {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', cmd], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d) => (text = (text + d).slice(-4000)));
    child.stderr.on('data', (d) => (text = (text + d).slice(-4000)));
    child.on('close', (status) => resolve({ status, text }));
  });
}

/** The environment every tool of a scenario runs in: test credentials, passphrase `pw`, state under `work`. */
export function benchEnv(work) {
  const env = {
    ...process.env,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_DEFAULT_REGION: 'us-east-1',
    GLACIER_BACKUP_PASSPHRASE: 'pw',
    RESTIC_PASSWORD: 'pw',
    PASSPHRASE: 'pw',
    GNUPGHOME: `${work}/gnupg`,
    GLACIER_BACKUP_STATE_DIR: `${work}/state`,
    GLACIER_BACKUP_CONFIG_DIR: `${work}/config`,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  delete env.AWS_CA_BUNDLE;
  return env;
}
