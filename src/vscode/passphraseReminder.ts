/**
 * A periodic "test your passphrase" reminder, as password managers have: off unless
 * glacierBackup.passphraseReminderDays is set. A passphrase remembered only by SecretStorage is
 * forgotten by its owner; the drill (Test Encryption Passphrase…) checks the copy they would
 * restore with. Only dates are kept (in the extension's state folder), never anything typed.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { writeFileAtomic } from '../core/util/atomicWrite';
import type { Log } from './log';
import { section } from './settings';

const dayMs = 86_400_000;
/** How often the reminder looks at the dates (and at most how often it speaks). */
const checkEveryMs = 6 * 3_600_000;

interface Dates {
  /** The last drill whose passphrase opened the newest archive, or when reminders began. */
  tested?: string;
  reminded?: string;
}

const file = (stateDir: string): string => path.join(stateDir, 'passphrase-test.json');

async function readDates(stateDir: string): Promise<Dates> {
  try {
    const parsed = JSON.parse(await fs.readFile(file(stateDir), 'utf8')) as Dates;
    return parsed && typeof parsed === 'object' ? parsed : {};
  } catch {
    return {};
  }
}

/** Called when a drill's passphrase (or key) opened the newest archive. */
export async function recordPassphraseTested(stateDir: string, now = new Date()): Promise<void> {
  await writeFileAtomic(file(stateDir), JSON.stringify({ ...(await readDates(stateDir)), tested: now.toISOString() }));
}

/** Starts the reminder; it checks at start and every few hours, and does nothing while the setting is 0. */
export function startPassphraseReminder(stateDir: string, log: Log): vscode.Disposable {
  const check = async (): Promise<void> => {
    const days = vscode.workspace.getConfiguration(section).get<number>('passphraseReminderDays', 0);
    if (!(days > 0)) return;
    const now = Date.now();
    const dates = await readDates(stateDir);
    // The first time, the count starts now: no reminder for a drill nobody was asked to do yet.
    if (!dates.tested) return writeFileAtomic(file(stateDir), JSON.stringify({ ...dates, tested: new Date(now).toISOString() }));
    const since = (now - Date.parse(dates.tested)) / dayMs;
    if (since < days || (dates.reminded && now - Date.parse(dates.reminded) < dayMs)) return;
    await writeFileAtomic(file(stateDir), JSON.stringify({ ...dates, reminded: new Date(now).toISOString() }));
    const test = 'Test Passphrase…';
    const answer = await vscode.window.showInformationMessage(
      `Glacier Backup: your encryption passphrase was last tested ${Math.floor(since)} days ago. Type it from your copy (paper, password manager) to check that it still opens your archives?`,
      test,
    );
    if (answer === test) await vscode.commands.executeCommand('glacierBackup.testPassphrase');
  };
  const run = (): void => void check().catch((err: unknown) => log.warn(`passphrase reminder: ${(err as Error).message}`));
  const timer = setInterval(run, checkEveryMs);
  const first = setTimeout(run, 30_000);
  return new vscode.Disposable(() => {
    clearInterval(timer);
    clearTimeout(first);
  });
}
