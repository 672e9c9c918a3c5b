/**
 * One VS Code session for a test file: code-server with the extension installed, Debian's
 * headless Chromium, and a workbench on the workspace folder. Start it in `before`, stop it in
 * `after`; tests in the file share it (a start costs ~15 s on this machine).
 */
import type { Browser } from 'playwright-core';
import { startCodeServer, type CodeServer, type CodeServerOptions } from './codeServer';
import { launchChromium, openWorkbench, type Workbench } from './workbench';

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
