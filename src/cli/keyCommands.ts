/** CLI commands about keys: test which passphrases (or private keys) open the catalog; the recovery kit. */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import { privateKeyDecryption } from '../core/jobs/keys';
import { recoveryKitHtml, recoveryKitMarkdown, type RecoveryKitInput } from '../core/model/recoveryKit';
import { GlacierError } from '../core/errors';
import { testKeys, type KeyCandidate } from '../core/jobs/keyTest';
import { printableJson } from '../core/util/printable';
import { encryption, type Context } from './context';
import { readFileArg } from './options';
import { givenPassphrases } from './passphrase';

export const keyUsage = `  test-passphrase [--all] [--json]             whether the passphrases given (each on its own) open the newest
                                               manifest, or with --all every one; lists archives none opens
  recovery-kit [--out FILE.md|FILE.html] [--include-passphrase]
                                               a printable page: where the backups are, key fingerprints, the
                                               by-hand restore commands, a place to write the passphrase
`;

declare const PACKAGE_VERSION: string;

export async function runRecoveryKit(ctx: Context): Promise<void> {
  const out = ctx.options.out;
  const include = Boolean(ctx.options['include-passphrase']);
  if (include && !out) throw new GlacierError('usage', '--include-passphrase needs --out FILE: the passphrase is never printed to the terminal');
  // Passphrase mode needs the passphrase only to write it on the page.
  const enc = (ctx.options.recipient ?? []).length > 0 || include ? await encryption(ctx) : ({ mode: 'passphrase', passphrase: '' } as const);
  const input: RecoveryKitInput = {
    store:
      ctx.location.kind === 'file'
        ? { kind: 'file', root: ctx.location.root }
        : {
            kind: 's3',
            bucket: ctx.location.bucket,
            prefix: ctx.location.prefix,
            ...(ctx.location.region ? { region: ctx.location.region } : {}),
            ...(ctx.location.endpoint ? { endpoint: ctx.location.endpoint } : {}),
            storageClass: ctx.location.storageClass,
          },
    encryption:
      enc.mode === 'passphrase'
        ? { mode: 'passphrase', ...(include ? { passphrase: enc.passphrase } : {}) }
        : { mode: 'public-key', recipients: enc.recipients.map((k) => ({ fingerprint: k.getFingerprint().toUpperCase(), userIds: k.getUserIDs() })) },
    created: new Date(),
    host: os.hostname(),
    toolVersion: typeof PACKAGE_VERSION === 'string' ? PACKAGE_VERSION : 'dev',
  };
  if (enc.mode === 'public-key' && include) throw new GlacierError('usage', '--include-passphrase applies to passphrase mode; in public-key mode keep the private key itself safe');
  if (!out) {
    ctx.out(recoveryKitMarkdown(input).trimEnd());
    return;
  }
  const text = /\.html?$/i.test(out) ? recoveryKitHtml(input) : recoveryKitMarkdown(input);
  try {
    // Never over another file; readable by its owner only, since it may hold the passphrase.
    await fs.writeFile(out, text, { flag: 'wx', mode: 0o600 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new GlacierError('io', code === 'EEXIST' ? `${out} exists: choose another name (the kit is never written over a file)` : `cannot write ${out}: ${code ?? String(err)}`);
  }
  ctx.out(`wrote ${out}${include ? ' (it holds the passphrase: print it, then delete the file)' : ': print it and write the passphrase on it by hand'}`);
}

export async function runTestPassphrase(ctx: Context): Promise<void> {
  const candidates: KeyCandidate[] = [];
  if (ctx.options.identity) {
    const armored = await readFileArg(ctx.options.identity, 'private key');
    candidates.push({ source: `--identity ${ctx.options.identity}`, decryption: await privateKeyDecryption(armored, ctx.env.GLACIER_BACKUP_KEY_PASSPHRASE) });
  } else {
    for (const g of await givenPassphrases(ctx.options, ctx.env, false)) candidates.push({ source: g.source, decryption: { passphrase: g.passphrase } });
  }
  const all = Boolean(ctx.options.all);
  const report = await testKeys(ctx.store, candidates, { all, signal: ctx.signal });
  if (ctx.options.json) {
    ctx.out(printableJson(JSON.stringify(report, null, 2)));
  } else {
    const of = all ? ` of ${report.tried.length} manifests` : '';
    for (const c of report.candidates) {
      const what = all ? `opens ${c.opens.length}${of}` : c.opens.length ? `opens the newest manifest (${report.tried[0]})` : `does NOT open the newest manifest (${report.tried[0]})`;
      ctx.out(`${c.source}: ${what}`);
    }
    for (const id of report.unopened) ctx.out(`not opened by any: ${id}`);
    for (const f of report.failed) ctx.out(`could not be read: ${f.id}: ${f.problem}`);
  }
  const first = report.candidates[0]!;
  if (report.unopened.length || report.failed.length) {
    throw new GlacierError('bad-key', `${report.unopened.length + report.failed.length}${all ? ` of ${report.tried.length}` : ''} manifest${report.unopened.length + report.failed.length === 1 ? '' : 's'} not opened by ${candidates.length === 1 ? 'this' : 'any of these'}`);
  }
  if (!all && first.opens.length === 0) throw new GlacierError('bad-key', `${first.source} does not open the newest manifest: new backups would be encrypted with it`);
}
