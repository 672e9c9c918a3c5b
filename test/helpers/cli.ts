/** Runs the built CLI (dist/cli.js) as a user would, with a controlled environment. */
import assert from 'node:assert/strict';
import { spawn, type SpawnOptions } from 'node:child_process';
import * as path from 'node:path';
import { snapshot } from './tree';

export const cliPath = path.resolve(__dirname, '../../dist/cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no AWS settings of the developer's leak into tests. */
export function baseEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(AWS_|GLACIER_BACKUP_)/.test(k)) env[k] = v;
  }
  env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv, options: SpawnOptions & { onSpawn?: (pid: number) => void; wrap?: string[] } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const cmd = options.wrap ? options.wrap[0]! : process.execPath;
    const argv = options.wrap ? [...options.wrap.slice(1), process.execPath, cliPath, ...args] : [cliPath, ...args];
    const child = spawn(cmd, argv, { ...options, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    if (child.pid && options.onSpawn) options.onSpawn(child.pid);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/**
 * The environment of a CLI run against a test server: test credentials, one bucket, and state and
 * config folders inside the test's own work folder (never the developer's ~/.config).
 */
export function cliEnv(
  target: { endpoint: string; bucket: string; work: string; passphrase?: string },
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  return baseEnv({
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    GLACIER_BACKUP_BUCKET: target.bucket,
    GLACIER_BACKUP_ENDPOINT: target.endpoint,
    GLACIER_BACKUP_PASSPHRASE: target.passphrase,
    GLACIER_BACKUP_STATE_DIR: path.join(target.work, 'state'),
    GLACIER_BACKUP_CONFIG_DIR: path.join(target.work, 'config'),
    ...extra,
  });
}

/**
 * Downloads archive `id` with the CLI into `<work>/restore-<id>` and asserts that the restored
 * copy of `source` equals it (types, modes, modification times, sha256 of every file).
 */
export async function assertRestores(id: string, source: string, work: string, env: NodeJS.ProcessEnv): Promise<void> {
  const res = await runCli(['download', id, path.join(work, `restore-${id}`)], env);
  assert.equal(res.code, 0, res.stderr);
  assert.deepEqual(snapshot(path.join(res.stdout.trim(), path.basename(source))), snapshot(source));
}
