/** Runs a recovery kit's by-hand commands as a person would: the id picked, gpg given the passphrase. */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';

export function runKitCommands(
  kit: string,
  o: { id: string; passphrase: string; work: string; gnupgHome: string; manifestTo: string; env?: Record<string, string> },
): { run: SpawnSyncReturns<string>; out: string } {
  const script = /```sh\n([\s\S]*?)\n```/.exec(kit)?.[1];
  if (script === undefined) throw new Error('the kit has no sh block');
  const passFile = path.join(o.work, 'kit-pass');
  writeFileSync(passFile, o.passphrase, { mode: 0o600 });
  const out = path.join(o.work, 'by-hand');
  mkdirSync(out);
  // gpg reads the passphrase from a file here, not from a prompt; the manifest goes to a file, not less.
  const asRun = script
    .replace(/^ID=.*$/m, `ID=${o.id}`)
    .replace(/gpg -d/g, `gpg --batch --pinentry-mode loopback --passphrase-file ${passFile} -d`)
    .replace('| less', `> ${o.manifestTo}`);
  const run = spawnSync('bash', ['-euo', 'pipefail', '-c', asRun], {
    cwd: out,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: o.work, GNUPGHOME: o.gnupgHome, ...o.env },
    timeout: 120_000,
  });
  return { run, out };
}
