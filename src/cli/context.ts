/** What every CLI command gets: the store, the parsed options, the output lines, and how secrets are found. */
import type { ArchiveStore } from '../core/jobs/openStore';
import type { StoreLocation } from '../core/config';
import { privateKeyDecryption, recipientEncryption, type Decryption, type Encryption } from '../core/jobs/keys';
import { readFileArg, type Options } from './options';
import { passphrases } from './passphrase';

export interface Context {
  store: ArchiveStore;
  /** Where `store` is, as the options and environment name it. */
  location: StoreLocation;
  options: Options;
  env: NodeJS.ProcessEnv;
  out: (line: string) => void;
  err: (line: string) => void;
  signal: AbortSignal;
  progress: boolean;
}

export async function encryption(ctx: Context): Promise<Encryption> {
  return (await backupKeys(ctx)).encryption;
}

/**
 * What a backup encrypts with, and what it reads earlier manifests with (to recognise unchanged
 * content): the first passphrase encrypts, all of them read.
 */
export async function backupKeys(ctx: Context): Promise<{ encryption: Encryption; decryption: Decryption | undefined }> {
  const files = ctx.options.recipient ?? [];
  if (files.length > 0) {
    const keys = await Promise.all(files.map(async (f) => ({ name: f, data: await readFileArg(f, 'recipient key') })));
    return { encryption: await recipientEncryption(keys), decryption: await decryption(ctx, false) };
  }
  const [first, ...others] = await passphrases(ctx.options, ctx.env, true);
  return { encryption: { mode: 'passphrase', passphrase: first! }, decryption: { passphrase: first!, ...(others.length ? { otherPassphrases: others } : {}) } };
}

/** What opens manifests: a private key (--identity) or the passphrases; undefined if neither is at hand. */
export async function decryption(ctx: Context, required: boolean): Promise<Decryption | undefined> {
  if (ctx.options.identity) {
    const armored = await readFileArg(ctx.options.identity, 'private key');
    return privateKeyDecryption(armored, ctx.env.GLACIER_BACKUP_KEY_PASSPHRASE);
  }
  if ((ctx.options.recipient ?? []).length > 0 && !required) return undefined;
  const [first, ...others] = await passphrases(ctx.options, ctx.env, false);
  return { passphrase: first, ...(others.length ? { otherPassphrases: others } : {}) };
}
