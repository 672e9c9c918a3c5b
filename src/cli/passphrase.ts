/** Where the CLI gets secrets: environment, a file, or a hidden terminal prompt — never argv. */
import { GlacierError } from '../core/errors';
import { readFileArg, type Options } from './options';

export async function passphrase(o: Options, env: NodeJS.ProcessEnv, confirm: boolean): Promise<string> {
  if (env.GLACIER_BACKUP_PASSPHRASE) return env.GLACIER_BACKUP_PASSPHRASE;
  if (o['passphrase-file']) {
    const text = (await readFileArg(o['passphrase-file'], 'passphrase file')).replace(/\r?\n$/, '');
    if (text === '') throw new GlacierError('usage', `passphrase file ${o['passphrase-file']} is empty`);
    return text;
  }
  if (process.stdin.isTTY && process.stderr.isTTY) {
    const first = await prompt('Passphrase: ');
    if (first === '') throw new GlacierError('usage', 'empty passphrase');
    if (confirm && (await prompt('Repeat passphrase: ')) !== first) throw new GlacierError('usage', 'the passphrases do not match');
    return first;
  }
  throw new GlacierError('config', 'no passphrase: set GLACIER_BACKUP_PASSPHRASE, use --passphrase-file FILE, or run in a terminal');
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
