/**
 * One VS Code session for a test file: code-server with the extension installed, Debian's
 * headless Chromium, and a workbench on the workspace folder. Start it in `before`, stop it in
 * `after`; tests in the file share it (a start costs ~15 s on this machine).
 */
import { after, before } from 'node:test';
import { mkdirSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { buildVsix, startCodeServer, type CodeServer, type CodeServerOptions } from './codeServer';
import { launchChromium, openWorkbench, type Workbench } from './workbench';
import { startMoto, type Moto } from '../../helpers/moto';
import { startRestoreProxy, type RestoreProxy } from '../../helpers/restoreProxy';
import { tempDir } from '../../helpers/tree';

export interface VsCodeSession {
  server: CodeServer;
  browser: Browser;
  wb: Workbench;
  /** Closes the browser and stops code-server; safe to call twice. */
  stop(): Promise<void>;
}

export interface VsCodeOptions extends CodeServerOptions {
  /**
   * Waits until the extension under test is up (say, its status bar item or view shows).
   * Menus and commands of an extension appear only once the extension host has loaded it.
   */
  ready?: (wb: Workbench) => Promise<unknown>;
}

export async function startVsCode(options: VsCodeOptions): Promise<VsCodeSession> {
  const server = await startCodeServer(options);
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close().catch(() => undefined);
    browser = undefined;
    await server.stop();
  };
  try {
    browser = await launchChromium();
    const wb = await openWorkbench(browser, server.url, options.workspace);
    await options.ready?.(wb);
    return { server, browser, wb, stop };
  } catch (err) {
    await stop();
    throw new Error(`VS Code did not come up (log: ${server.logFile}): ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The extension pointed at a bucket of the moto server (store settings are "machine" scope, so
 * they go to the remote machine's settings), polling restores every 5 s, with moto's credentials.
 */
export function motoStore(endpoint: string, bucket: string): Pick<VsCodeOptions, 'machineSettings' | 'settings' | 'env'> {
  return {
    machineSettings: { 'glacierBackup.bucket': bucket, 'glacierBackup.endpoint': endpoint, 'glacierBackup.region': 'us-east-1' },
    settings: { 'glacierBackup.pollIntervalSeconds': 5 },
    env: { AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_CA_BUNDLE: '' },
  };
}

/** What useVsCodeOnMoto made: a work folder, the workspace folder in it, moto, the proxy if asked. */
export interface MotoSet {
  work: string;
  workspace: string;
  moto: Moto;
  /** With `pendingRestores`: in front of moto, restores show as pending until `release()`. */
  proxy?: RestoreProxy;
}

export interface VsCodeOnMoto {
  /** The session's name (its artifacts folder). */
  name: string;
  bucket: string;
  /** Puts a restore proxy in front of moto, and VS Code behind it (moto completes restores at once). */
  pendingRestores?: boolean;
  /** Fills the workspace (and the bucket) before VS Code starts. */
  seed: (set: MotoSet) => void | Promise<void>;
  /** VS Code's options beyond the workspace and the VSIX; default: motoStore on the bucket. */
  vsCode?: (endpoint: string) => Omit<VsCodeOptions, 'name' | 'workspace' | 'vsix'>;
}

/**
 * The usual set-up of an e2e test file, as useMoto's for the others (test/helpers/moto.ts):
 * before its tests, a work folder with the workspace folder `project` in it, moto with one bucket
 * (and the restore proxy, if asked), the seed, then VS Code on the workspace with the extension
 * pointed at the bucket; after them, all of it stopped and removed. `use` receives them once VS
 * Code is up (assign them to the file's variables).
 */
export function useVsCodeOnMoto(options: VsCodeOnMoto, use: (set: MotoSet & { vs: VsCodeSession }) => void): void {
  let set: MotoSet | undefined;
  let vs: VsCodeSession | undefined;
  let work: string | undefined;
  before(async () => {
    work = tempDir(`gb-e2e-${options.name}-`);
    const workspace = path.join(work, 'project');
    mkdirSync(workspace);
    const moto = await startMoto();
    set = { work, workspace, moto };
    await moto.createBucket(options.bucket);
    if (options.pendingRestores) set.proxy = await startRestoreProxy(moto.endpoint, Number.MAX_SAFE_INTEGER);
    await options.seed(set);
    const endpoint = set.proxy?.endpoint ?? moto.endpoint;
    vs = await startVsCode({
      name: options.name,
      workspace,
      vsix: await buildVsix(),
      ...(options.vsCode ? options.vsCode(endpoint) : motoStore(endpoint, options.bucket)),
    });
    use({ ...set, vs });
  });
  after(async () => {
    await vs?.stop();
    await set?.proxy?.close();
    await set?.moto.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });
}
