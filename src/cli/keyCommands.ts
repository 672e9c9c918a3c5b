/** CLI commands about keys: test which passphrases (or private keys) open the catalog. */
import { loadPrivateKeys } from '../core/crypto/openpgp';
import { GlacierError } from '../core/errors';
import { testKeys, type KeyCandidate } from '../core/jobs/keyTest';
import { printableJson } from '../core/util/printable';
import type { Context } from './commands';
import { readFileArg } from './options';
import { givenPassphrases } from './secrets';

export const keyUsage = `  test-passphrase [--all] [--json]             whether the passphrases given (each on its own) open the newest
                                               manifest, or with --all every one; lists archives none opens
`;

export async function runTestPassphrase(ctx: Context): Promise<void> {
  const candidates: KeyCandidate[] = [];
  if (ctx.options.identity) {
    const armored = await readFileArg(ctx.options.identity, 'private key');
    candidates.push({ source: `--identity ${ctx.options.identity}`, decryption: { privateKeys: await loadPrivateKeys(armored, ctx.env.GLACIER_BACKUP_KEY_PASSPHRASE) } });
  } else {
    for (const g of await givenPassphrases(ctx.options, ctx.env, false)) candidates.push({ source: g.source, decryption: { passphrase: g.passphrase } });
  }
  const all = Boolean(ctx.options.all);
  const report = await testKeys(ctx.client, ctx.store, candidates, { all, signal: ctx.signal });
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
