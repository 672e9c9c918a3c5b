// `npm run bench -- list`: how long `glacier-backup list` takes on a bucket of LIST_COUNT (1,000)
// snapshots in Deep Archive, one of them restored, against one loopback moto server that reports
// ListObjectsV2's RestoreStatus as AWS does (test/helpers/moto_restore_status.py): cold (an empty
// local cache: every catalog summary is read and decrypted) and warm (the same listing again: the
// cache answers, and the LIST gives the archives' states). Then warm again as on moto as shipped
// (MinIO, Ceph: no RestoreStatus), where a HEAD per archive gives them: a proxy in this process
// drops the request's x-amz-optional-object-attributes header, and the patched moto answers as
// moto as shipped does. The proxy counts LISTs and archive HEADs. The snapshots are written by
// dist/bench-catalog.js. Env: LIST_COUNT (1000), LIST_RUNS (3, for the warm medians), BENCH_OUT
// (default bench/RESULTS-list.md).
import http from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, run, startMoto } from './moto.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const count = Number(process.env.LIST_COUNT ?? '1000');
const runs = Number(process.env.LIST_RUNS ?? '3');
const out = process.env.BENCH_OUT ?? join(root, 'bench', 'RESULTS-list.md');
const work = mkdtempSync(join(tmpdir(), 'gb-list-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const { port: motoPort, url } = await startMoto({ restoreStatus: true });
/** Requests the listings make, through the proxy; `asShipped` hides the attribute from moto. */
const seen = { lists: 0, heads: 0 };
let asShipped = false;
const proxy = http.createServer((req, res) => {
  if (req.method === 'GET' && /[?&]list-type=2/.test(req.url ?? '')) seen.lists++;
  if (req.method === 'HEAD' && (req.url ?? '').includes('/archives/')) seen.heads++;
  const headers = { ...req.headers };
  if (asShipped) delete headers['x-amz-optional-object-attributes'];
  const up = http.request({ host: '127.0.0.1', port: motoPort, method: req.method, path: req.url, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${proxy.address().port}`;
const env = benchEnv(work);
mkdirSync(join(work, 'tiny'));
writeFileSync(join(work, 'tiny', 'notes.md'), '# a day of work\n');
const check = (r, what) => {
  if (r.status !== 0) throw new Error(`${what}: ${r.text}`);
  return r;
};
check(await run(`aws --endpoint-url ${url} s3api create-bucket --bucket listing`, env), 'create the bucket');
const filled = Date.now();
check(await run(`node '${join(root, 'dist', 'bench-catalog.js')}' ${count} listing ${url} '${join(work, 'tiny')}'`, env), 'fill the bucket');
const fillSeconds = (Date.now() - filled) / 1000;
// One archive restored (moto completes a restore at once), so the listing shows a RestoreStatus.
const first = check(await run(`aws --endpoint-url ${url} s3api list-objects-v2 --bucket listing --prefix glacier-backup/archives/ --max-items 1 --query 'Contents[0].Key' --output text`, env), 'find an archive');
const restoredKey = first.text.trim().split('\n')[0];
check(await run(`aws --endpoint-url ${url} s3api restore-object --bucket listing --key '${restoredKey}' --restore-request '{"Days":1,"GlacierJobParameters":{"Tier":"Standard"}}'`, env), 'restore an archive');

const list = async () => {
  const time = join(work, 'time.txt');
  const before = { ...seen };
  check(await run(`/usr/bin/time -f '%e %U %S %M' -o '${time}' node '${join(root, 'dist', 'cli.js')}' list --bucket listing --endpoint ${endpoint} --json > '${join(work, 'list.json')}'`, env), 'list');
  const [wall, user, sys, rss] = readFileSync(time, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  const rows = JSON.parse(readFileSync(join(work, 'list.json'), 'utf8'));
  const labelled = rows.filter((row) => row.label).length;
  if (rows.length !== count || labelled !== count) throw new Error(`list showed ${rows.length} snapshots, ${labelled} with their summary; ${count} expected`);
  const states = rows.map((row) => row.state).sort().join(' ');
  const expected = ['archived', 'restored'].flatMap((st) => Array(st === 'restored' ? 1 : count - 1).fill(st)).join(' ');
  if (states !== expected) throw new Error(`list showed states other than ${count - 1} archived and 1 restored`);
  return { wall, cpu: user + sys, rss: rss / 1024, lists: seen.lists - before.lists, heads: seen.heads - before.heads };
};
const cold = await list();
const warmRuns = async () => {
  const all = [];
  for (let i = 0; i < runs; i++) all.push(await list());
  const median = (k) => all.map((w) => w[k]).sort((a, b) => a - b)[Math.floor(all.length / 2)];
  return { wall: median('wall'), cpu: median('cpu'), rss: median('rss'), lists: median('lists'), heads: median('heads') };
};
const warm = await warmRuns();
asShipped = true;
const shipped = await warmRuns();
const fmt = (r) => `${r.wall.toFixed(2)} s | ${r.cpu.toFixed(2)} s | ${Math.round(r.rss)} MB | ${r.lists} | ${r.heads}`;
const load = check(await run('uptime', env), 'uptime').text.trim().replace(/^.*load average/, 'load average');
const md = `# Listing ${count} snapshots

Generated by \`npm run bench -- list\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}; ${load} at the end.
${count} snapshots in Deep Archive (each an archive, a manifest and a catalog summary; written in ${fillSeconds.toFixed(0)} s by dist/bench-catalog.js),
**one archive restored before listing**; one moto server on loopback, patched to report ListObjectsV2's RestoreStatus as AWS S3
does (test/helpers/moto_restore_status.py), behind a counting proxy; \`glacier-backup list --json\`, every row checked to carry
its summary and the right state (${count - 1} archived, 1 restored). Cold: an empty local cache (one GET and one decryption per
summary, 8 at a time); warm: the same listing again (median of ${runs}). On this AWS-like server the LIST gives every
archive's state: no HEADs. Warm, as on moto as shipped: the proxy drops the x-amz-optional-object-attributes header, so the
listing shows no RestoreStatus (as on MinIO, Ceph, moto 5.2.1), is not trusted for states, and each archive is HEADed (8 at
a time). Targets (issue 15): warm ≤ 1 s, cold ≤ 10 s.

| Listing | Wall | CPU | Peak RSS | LISTs | Archive HEADs |
| --- | --- | --- | --- | --- | --- |
| cold, AWS-like | ${fmt(cold)} |
| warm, AWS-like | ${fmt(warm)} |
| warm, as moto as shipped | ${fmt(shipped)} |
`;
writeFileSync(out, md);
console.log(md);
proxy.close();
process.exit(0);
