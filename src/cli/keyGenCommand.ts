/** `glacier-backup key generate`: a key pair for public-key mode, written as two armored files. */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { generateRecipientKey } from '../core/jobs/keys';
import { GlacierError } from '../core/errors';
import type { CommandIo } from './io';
import { keyPassphrase } from './passphrase';

export const keyGenUsage = `  key generate --name NAME [--email ADDR] [--out DIR]
                                               a key pair for public-key mode (v4, Curve25519, as GnuPG 2.2 reads):
                                               <fingerprint>.pub.asc for --recipient, .private.asc to keep safe;
                                               its passphrase from GLACIER_BACKUP_KEY_PASSPHRASE or typed
`;

export async function runKeyGenerate(io: CommandIo): Promise<void> {
  const o = io.options;
  if (!o.name) throw new GlacierError('usage', 'key generate needs --name (e.g. --name "Backups of laptop")');
  const dir = path.resolve(o.out ?? '.');
  const st = await fs.stat(dir).catch(() => undefined);
  if (!st?.isDirectory()) throw new GlacierError('usage', `--out ${dir} is not a folder`);
  const passphrase = await keyPassphrase(io.env, true);
  const key = await generateRecipientKey({ name: o.name, ...(o.email ? { email: o.email } : {}), passphrase });
  const base = path.join(dir, key.fingerprint);
  const written: string[] = [];
  try {
    for (const [file, text, mode] of [[`${base}.pub.asc`, key.publicArmored, 0o644], [`${base}.private.asc`, key.privateArmored, 0o600]] as const) {
      await fs.writeFile(file, text, { flag: 'wx', mode });
      written.push(file);
    }
  } catch (err) {
    for (const file of written) await fs.rm(file, { force: true });
    throw new GlacierError('io', `cannot write the key files in ${dir}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  io.out(`generated key ${key.fingerprint.replace(/(.{4})(?!$)/g, '$1 ')}`);
  io.out(`  public key (for --recipient, on the machines that back up): ${base}.pub.asc`);
  io.out(`  private key (reads the backups; keep it off those machines, with a copy somewhere safe): ${base}.private.asc`);
  io.out('  next: glacier-backup recovery-kit --recipient <public key> writes a page to print');
}
