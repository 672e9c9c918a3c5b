/** Where the CLI gets secrets: environment, a file, or a hidden terminal prompt — never argv. */
import { GlacierError } from '../core/errors';
import { maxPassphrases } from '../core/jobs/keys';
import { readFileArg, type Options } from './options';

/**
 * The passphrases given, in order: GLACIER_BACKUP_PASSPHRASE, then each --passphrase-file; a
 * terminal prompt when there is none. The first encrypts new backups; reading tries them all, so
 * archives made under an earlier passphrase stay readable next to the current one.
 */
export async function passphrases(o: Options, env: NodeJS.ProcessEnv, confirm: boolean): Promise<string[]> {
  return (await givenPassphrases(o, env, confirm)).map((g) => g.passphrase);
}

/** A usage error before any work when more passphrases are given than a reader tries (commands may read them lazily, or not at all). */
export function checkPassphraseCount(o: Options, env: NodeJS.ProcessEnv): void {
  const given = (env.GLACIER_BACKUP_PASSPHRASE ? 1 : 0) + (o['passphrase-file'] ?? []).length;
  if (given > maxPassphrases) throw new GlacierError('usage', `at most ${maxPassphrases} passphrases are tried: ${given} were given`);
}

/** passphrases(), each with where it came from (for reports; never the passphrase itself). */
export async function givenPassphrases(o: Options, env: NodeJS.ProcessEnv, confirm: boolean): Promise<{ source: string; passphrase: string }[]> {
  checkPassphraseCount(o, env);
  const given: { source: string; passphrase: string }[] = [];
  if (env.GLACIER_BACKUP_PASSPHRASE) given.push({ source: 'GLACIER_BACKUP_PASSPHRASE', passphrase: env.GLACIER_BACKUP_PASSPHRASE });
  for (const file of o['passphrase-file'] ?? []) {
    const text = (await readFileArg(file, 'passphrase file')).replace(/\r?\n$/, '');
    if (text === '') throw new GlacierError('usage', `passphrase file ${file} is empty`);
    given.push({ source: `--passphrase-file ${file}`, passphrase: text });
  }
  if (given.length > 0) return given;
  const first = await typed(['Passphrase: ', 'Repeat passphrase: '], confirm, 'no passphrase: set GLACIER_BACKUP_PASSPHRASE, use --passphrase-file FILE, or run in a terminal');
  return [{ source: 'the passphrase typed', passphrase: first }];
}

/** The passphrase that encrypts new backups: the first one given. */
export async function passphrase(o: Options, env: NodeJS.ProcessEnv, confirm: boolean): Promise<string> {
  return (await passphrases(o, env, confirm))[0]!;
}

/** The passphrase of a private key: GLACIER_BACKUP_KEY_PASSPHRASE, or typed (twice for a new key). */
export async function keyPassphrase(env: NodeJS.ProcessEnv, confirm: boolean): Promise<string> {
  if (env.GLACIER_BACKUP_KEY_PASSPHRASE) return env.GLACIER_BACKUP_KEY_PASSPHRASE;
  return typed(['Passphrase for the private key: ', 'Repeat it: '], confirm, 'no passphrase for the private key: set GLACIER_BACKUP_KEY_PASSPHRASE or run in a terminal');
}

/**
 * The escrow passphrase (key escrow, recover): GLACIER_BACKUP_ESCROW_PASSPHRASE, the first line of
 * --escrow-passphrase-file, or typed (twice when escrowing). Never the backups' passphrase.
 */
export async function escrowPassphrase(o: Options, env: NodeJS.ProcessEnv, confirm: boolean): Promise<string> {
  if (env.GLACIER_BACKUP_ESCROW_PASSPHRASE) return env.GLACIER_BACKUP_ESCROW_PASSPHRASE;
  const file = o['escrow-passphrase-file'];
  if (file) {
    const text = (await readFileArg(file, 'escrow passphrase file')).replace(/\r?\n$/, '');
    if (text === '') throw new GlacierError('usage', `escrow passphrase file ${file} is empty`);
    return text;
  }
  return typed(['Escrow passphrase: ', 'Repeat the escrow passphrase: '], confirm, 'no escrow passphrase: set GLACIER_BACKUP_ESCROW_PASSPHRASE, use --escrow-passphrase-file FILE, or run in a terminal');
}

/** A secret typed at a terminal, twice when `confirm`; `missing` is the message without one. */
async function typed([question, again]: [string, string], confirm: boolean, missing: string): Promise<string> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) throw new GlacierError('config', missing);
  const first = await prompt(question);
  if (first === '') throw new GlacierError('usage', 'empty passphrase');
  if (confirm && (await prompt(again)) !== first) throw new GlacierError('usage', 'the passphrases do not match');
  return first;
}

/** Reads a line from the terminal without echoing it. */
function prompt(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new GlacierError('cancelled', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
