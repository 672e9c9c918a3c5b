// `npm run bench -- daily`: the daily-backup scenario of issue 15. A generated workspace is backed
// up once a day for DAILY_DAYS days by glacier-backup, restic (repository v2) and duplicity (when
// installed), each to its own bucket of one loopback moto server, in the same run; between days the
// workspace changes as a working week would: ~1 % of the text files edited, 20 added, 10 deleted,
// one folder renamed, and 1 MiB of the big file rewritten in place. Every tool talks to moto through
// a counting proxy in this process, so bytes uploaded and requests are measured on the wire, not
// taken from any tool's own report; objects are counted in the bucket after each day.
// Env: DAILY_DAYS (5), DAILY_SCALE (1 = 1,500 text files, 50 binary assets, one 64 MiB file:
// ~75 MB), BENCH_OUT (default bench/RESULTS-daily.md).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchEnv, run, startMoto } from './moto.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const days = Number(process.env.DAILY_DAYS ?? '5');
const scale = Number(process.env.DAILY_SCALE ?? '1');
const out = process.env.BENCH_OUT ?? join(root, 'bench', 'RESULTS-daily.md');
const work = mkdtempSync(join(tmpdir(), 'gb-daily-'));
const ws = join(work, 'workspace');
const cli = `node ${join(root, 'dist', 'cli.js')}`;

const { port: motoPort, url: motoUrl } = await startMoto();
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
/** Per bucket: requests, and bytes of request bodies (what a client uploads). */
const counts = new Map();
const proxy = http.createServer((req, res) => {
  const host = (req.headers.host ?? '').split(':')[0];
  const bucket = host !== '127.0.0.1' && host !== 'localhost' ? host.split('.')[0] : decodeURIComponent((req.url ?? '/').split('?')[0].split('/')[1] ?? '');
  const c = counts.get(bucket) ?? { requests: 0, bytes: 0 };
  counts.set(bucket, c);
  c.requests++;
  req.on('data', (d) => (c.bytes += d.byteLength));
  const headers = { ...req.headers };
  delete headers.expect;
  const up = http.request({ host: '127.0.0.1', port: motoPort, method: req.method, path: req.url, headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
proxy.on('checkContinue', (req, res) => {
  res.writeContinue();
  proxy.emit('request', req, res);
});
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${proxy.address().port}`;

const env = benchEnv(work);
mkdirSync(env.GNUPGHOME, { mode: 0o700 });
const has = async (tool) => (await run(`command -v ${tool}`, env)).status === 0;
const aws = `aws --endpoint-url ${motoUrl}`;

// The workspace: day 0, then one day's changes per call (deterministic: seeded by the day).
const workspace = join(root, 'bench', 'daily-workspace.py');
const generate = async (day) => {
  const r = await run(`python3 '${workspace}' '${ws}' ${day} ${scale}`, env);
  if (r.status !== 0) throw new Error(`workspace day ${day}: ${r.text}`);
};

/** The tools: each backs up `ws` into its own bucket; `init` is not measured. */
const tools = [
  { name: 'glacier-backup', bucket: 'glacier', cmd: `${cli} backup '${ws}' --bucket glacier --endpoint ${endpoint} --quiet` },
];
if (await has('restic')) {
  tools.push({
    name: 'restic (repository v2)',
    bucket: 'restic',
    init: `restic -q -r s3:${endpoint}/restic/r init --repository-version 2`,
    cmd: `restic -q -r s3:${endpoint}/restic/r backup --compression auto '${ws}'`,
  });
}
if (await has('duplicity')) {
  const archiveDir = join(work, 'duplicity-cache');
  tools.push({
    name: 'duplicity',
    bucket: 'duplicity',
    cmd: `duplicity --archive-dir '${archiveDir}' --s3-endpoint-url ${endpoint} --allow-source-mismatch '${ws}' boto3+s3://duplicity/d >/dev/null`,
  });
}
const missing = ['restic', 'duplicity'].filter((t) => !tools.some((x) => x.name.startsWith(t)));

await generate(0);
const du = (await run(`du -sb '${ws}' | cut -f1`, env)).text.trim();
const files = (await run(`find '${ws}' -type f | wc -l`, env)).text.trim();
for (const t of tools) {
  const made = await run(`${aws} s3api create-bucket --bucket ${t.bucket}`, env);
  if (made.status !== 0) throw new Error(`create bucket ${t.bucket}: ${made.text}`);
  if (t.init) {
    const r = await run(t.init, env);
    if (r.status !== 0) throw new Error(`${t.name} init: ${r.text}`);
  }
  t.days = [];
}

for (let day = 1; day <= days; day++) {
  if (day > 1) await generate(day - 1); // the changes of the day before
  for (const t of tools) {
    const before = { ...(counts.get(t.bucket) ?? { requests: 0, bytes: 0 }) };
    const time = join(work, 'time.txt');
    const r = await run(`/usr/bin/time -f '%e %U %S' -o '${time}' bash -c ${JSON.stringify(t.cmd)}`, env);
    if (r.status !== 0) {
      t.days.push({ failed: r.text.trim().split('\n').slice(-2).join(' ') });
      continue;
    }
    const [wall, user, sys] = readFileSync(time, 'utf8').trim().split('\n').pop().split(' ').map(Number);
    const after = counts.get(t.bucket);
    const objects = Number((await run(`${aws} s3api list-objects-v2 --bucket ${t.bucket} --query 'length(Contents)' --output text`, env)).text.trim()) || 0;
    t.days.push({ bytes: after.bytes - before.bytes, requests: after.requests - before.requests, objects, wall, cpu: user + sys });
  }
  console.error(`day ${day} done`);
}

const MB = (b) => `${(b / 1e6).toFixed(2)} MB`;
const sum = (list, k) => list.reduce((n, d) => n + (d[k] ?? 0), 0);
let md = `# Daily backups (issue 15)\n\nGenerated by \`npm run bench -- daily\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}.
Workspace (bench/daily-workspace.py, scale ${scale}): ${MB(Number(du))} in ${files} files; day 1 is the first backup, and before each later day
~1 % of the text files are edited, 20 added, 10 deleted, one folder renamed, and 1 MiB of the 64 MiB file rewritten in place.
Each tool backs up into its own bucket of one moto server on loopback, through a counting proxy: Uploaded is the bytes of
request bodies and Requests every request on the wire, as the proxy saw them; Objects is the bucket's object count after
the day; Wall and CPU (user + system) are the client's.${missing.length ? ` Not installed here, so not measured: ${missing.join(', ')}.` : ''}\n\n`;
md += `| Day | Tool | Uploaded | Requests | Objects | Wall | CPU |\n| --- | --- | --- | --- | --- | --- | --- |\n`;
for (let day = 0; day < days; day++) {
  for (const t of tools) {
    const d = t.days[day];
    md += d.failed ? `| ${day + 1} | ${t.name} | failed: ${d.failed.replaceAll('|', '\\|')} | | | | |\n` : `| ${day + 1} | ${t.name} | ${MB(d.bytes)} | ${d.requests} | ${d.objects} | ${d.wall.toFixed(2)} s | ${d.cpu.toFixed(2)} s |\n`;
  }
}
const later = (t) => t.days.slice(1).filter((d) => !d.failed);
md += `\nAfter the first day (days 2-${days}), per day on average:\n\n| Tool | Uploaded | Requests | Wall | CPU | glacier-backup vs it |\n| --- | --- | --- | --- | --- | --- |\n`;
const ours = later(tools[0]);
for (const t of tools) {
  const l = later(t);
  if (!l.length) continue;
  const avg = (list, k) => sum(list, k) / list.length;
  const vs = t === tools[0] || !ours.length ? '' : `${(avg(ours, 'bytes') / avg(l, 'bytes')).toFixed(1)}× bytes, ${(avg(ours, 'requests') / avg(l, 'requests')).toFixed(1)}× requests, ${(avg(ours, 'wall') / avg(l, 'wall')).toFixed(2)}× wall, ${(avg(ours, 'cpu') / avg(l, 'cpu')).toFixed(2)}× CPU`;
  md += `| ${t.name} | ${MB(avg(l, 'bytes'))} | ${avg(l, 'requests').toFixed(0)} | ${avg(l, 'wall').toFixed(2)} s | ${avg(l, 'cpu').toFixed(2)} s | ${vs} |\n`;
}
writeFileSync(out, md);
console.log(md);
proxy.close();
process.exit(0);
