/**
 * `glacier-backup key escrow` and `key recover`: the private key of public-key mode kept in the
 * store under an escrow passphrase (core/jobs/keyEscrow.ts), and got back from it.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { GlacierError } from '../core/errors';
import { escrowPrivateKey, normaliseFingerprint, recoverEscrowedKey } from '../core/jobs/keyEscrow';
import type { Context } from './context';
import { readFileArg } from './options';
import { escrowPassphrase } from './passphrase';

export const keyEscrowUsage = `  key escrow --identity KEY.asc                store the private key in the store (keys/<fingerprint>.asc.gpg),
                                               encrypted with an escrow passphrase that gpg -d alone opens:
                                               GLACIER_BACKUP_ESCROW_PASSPHRASE, --escrow-passphrase-file FILE,
                                               or typed twice; anyone with the bucket and it reads every backup
  key recover FINGERPRINT [--out FILE]         the escrowed private key, opened with the escrow passphrase, into
                                               FILE (default <fingerprint>.private.asc; never over a file)
`;

export async function runKeyEscrow(ctx: Context): Promise<void> {
  const file = ctx.options.identity;
  if (!file) throw new GlacierError('usage', 'key escrow needs --identity KEY.asc, the private key to store');
  const armored = await readFileArg(file, 'private key');
  const passphrase = await escrowPassphrase(ctx.options, ctx.env, true);
  const { fingerprint, objectKey } = await escrowPrivateKey(ctx.store, { armored, what: `--identity ${file}`, escrowPassphrase: passphrase, signal: ctx.signal });
  ctx.out(`escrowed key ${fingerprint} as ${objectKey}`);
  ctx.out(`  recover it with: glacier-backup key recover ${fingerprint}   (or by hand: gpg -d, with the escrow passphrase)`);
  ctx.out('  keep the escrow passphrase apart from the bucket credentials: together they read every backup');
}

export async function runKeyRecover(ctx: Context, fingerprintText: string | undefined): Promise<void> {
  if (!fingerprintText) throw new GlacierError('usage', 'key recover needs the fingerprint of the escrowed key (key recover 0123ABCD…)');
  const fingerprint = normaliseFingerprint(fingerprintText);
  const out = path.resolve(ctx.options.out ?? `${fingerprint}.private.asc`);
  // Refused before the passphrase is asked for; checked again, atomically, when writing.
  if (await fs.lstat(out).then(() => true, () => false)) throw new GlacierError('usage', `${out} exists: choose another --out (a key is never written over a file)`);
  const passphrase = await escrowPassphrase(ctx.options, ctx.env, false);
  const { armored } = await recoverEscrowedKey(ctx.store, fingerprint, passphrase, ctx.signal);
  await writeNewPrivateFile(out, armored);
  ctx.out(`recovered key ${fingerprint} into ${out}`);
  ctx.out('  it is still under its own passphrase, if it had one; use it with --identity, or gpg --import it');
}

/**
 * Writes `text` to `file`, which must not exist, readable by its owner only, all at once: a
 * temporary file beside it, then a hard link to the name (which fails if the name was taken
 * meanwhile), or a rename where the file system has no hard links.
 */
async function writeNewPrivateFile(file: string, text: string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await fs.writeFile(tmp, text, { flag: 'wx', mode: 0o600 });
    try {
      await fs.link(tmp, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw err;
      if (await fs.lstat(file).then(() => true, () => false)) throw Object.assign(new Error('exists'), { code: 'EEXIST' });
      await fs.rename(tmp, file);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GlacierError('io', code === 'EEXIST' ? `${file} exists: choose another --out (a key is never written over a file)` : `cannot write ${file}: ${code ?? String(err)}`);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}
