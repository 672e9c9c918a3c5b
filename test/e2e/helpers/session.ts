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
