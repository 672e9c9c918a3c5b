// `npm run bench`: the engine against peer tools, in one run, on one loopback moto server and
// one generated dataset; medians of BENCH_RUNS runs, the tools taking turns; writes a markdown
// table to bench/RESULTS.md. `npm run bench -- daily` runs the daily-backup scenario instead (daily.mjs), `npm run bench -- list` the listing of 1,000 snapshots (list.mjs).
// Env: BENCH_SCALE (dataset scale, 1 = ~700 MB), BENCH_RUNS (3), BENCH_LARGE (1: also the 4 GiB
// file and the 200,000-file tree), BENCH_OUT (output file), BENCH_SHAPED (Mbit/s of the shaped
// uplinks, default "20,200"; empty: none) and BENCH_SHAPED_SCALE (their dataset, default 0.1).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Scenarios of their own, each writing its own results file; each exits when done.
if (process.argv[2] === 'daily') await import('./daily.mjs');
if (process.argv[2] === 'list') await import('./list.mjs');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const scale = Number(process.env.BENCH_SCALE ?? '1');
const runs = Number(process.env.BENCH_RUNS ?? '3');
const large = process.env.BENCH_LARGE !== undefined ? process.env.BENCH_LARGE === '1' : scale >= 1;
const out = process.env.BENCH_OUT ?? join(root, 'bench', 'RESULTS.md');
const data = join(root, 'bench', '.data');
const ds = join(data, `dataset-${scale}`);
const shapedRates = (process.env.BENCH_SHAPED ?? '20,200').split(',').filter(Boolean).map(Number);
const shapedScale = Number(process.env.BENCH_SHAPED_SCALE ?? '0.1');
const dsShaped = join(data, `dataset-${shapedScale}`);
const work = mkdtempSync(join(tmpdir(), 'gb-bench-'));
const cli = `node ${join(root, 'dist', 'cli.js')}`;
const packNull = `node ${join(root, 'dist', 'bench-pack.js')}`;

execFileSync('bash', [join(root, 'bench', 'make-dataset.sh'), ds, String(scale)], { stdio: 'inherit' });
if (shapedRates.length) execFileSync('bash', [join(root, 'bench', 'make-dataset.sh'), dsShaped, String(shapedScale)], { stdio: 'inherit' });

const port = await new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const endpoint = `http://127.0.0.1:${port}`;
const moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
process.on('exit', () => {
  moto.kill();
  rmSync(work, { recursive: true, force: true });
});
for (let i = 0; ; i++) {
  try {
    await fetch(endpoint);
    break;
  } catch {
    if (i > 150) throw new Error('moto did not start');
    await new Promise((r) => setTimeout(r, 200));
  }
}

const env = { ...process.env, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1', AWS_CA_BUNDLE: '',
  GLACIER_BACKUP_ENDPOINT: endpoint, GLACIER_BACKUP_PASSPHRASE: 'pw', RESTIC_PASSWORD: 'pw', GNUPGHOME: join(work, 'gnupg'),
  GLACIER_BACKUP_STATE_DIR: join(work, 'state'), GLACIER_BACKUP_CONFIG_DIR: join(work, 'config'), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
delete env.AWS_CA_BUNDLE;
mkdirSync(env.GNUPGHOME, { mode: 0o700 });
spawnSync('gpgconf', ['--launch', 'gpg-agent'], { env }); // agent start-up is not what we measure
const sh = (cmd) => spawnSync('bash', ['-c', cmd], { env, encoding: 'utf8' });
const has = (tool) => sh(`command -v ${tool}`).status === 0;
let bucketNo = 0;
const bucket = () => {
  const name = `bench-${++bucketNo}`;
  sh(`aws --endpoint-url ${endpoint} s3api create-bucket --bucket ${name}`);
  return name;
};

/** One timed run of `cmd` (after `setup`, and before `teardown`, both untimed). */
function sample(job, i) {
  const ctx = job.setup?.(i) ?? {};
  const full = typeof job.cmd === 'function' ? job.cmd(ctx) : job.cmd;
  const t = join(work, 'time.txt');
  const res = spawnSync('/usr/bin/time', ['-f', '%e %U %S %M', '-o', t, 'bash', '-c', full], { env, encoding: 'utf8' });
  const stored = res.status === 0 ? job.stored?.(ctx) : undefined;
  job.teardown?.(ctx);
  if (res.status !== 0) return { failed: (res.stderr || res.stdout).trim().split('\n').slice(-2).join(' ') };
  const [e, u, s, m] = readFileSync(t, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { wall: e, cpu: u + s, rss: m / 1024, stored };
}

/**
 * Runs the jobs `runs` times each, taking turns (ours, peer, peer, ours, …), so that a machine
 * that speeds up or slows down during the run weighs on every tool alike; returns each job's
 * medians of wall, CPU and peak RSS (or its first failure).
 */
function measureSideBySide(...jobs) {
  const samples = jobs.map(() => []);
  const failed = jobs.map(() => undefined);
  for (let i = 0; i < runs; i++) {
    jobs.forEach((job, j) => {
      if (!job || failed[j]) return;
      const r = sample(job, i);
      if (r.failed) failed[j] = r.failed;
      else samples[j].push(r);
    });
  }
  const median = (list, k) => list.map((x) => x[k]).sort((a, b) => a - b)[Math.floor(list.length / 2)];
  return jobs.map((job, j) =>
    !job ? { failed: 'not installed' } : failed[j] ? { failed: failed[j] } : { wall: median(samples[j], 'wall'), cpu: median(samples[j], 'cpu'), rss: median(samples[j], 'rss'), stored: median(samples[j], 'stored') },
  );
}

/** A fresh bucket for each run, emptied and removed after it so that moto's memory stays flat; records the bytes stored. */
const inBucket = (cmd, init) => ({
  cmd,
  setup: () => {
    const b = bucket();
    init?.(b);
    return { b };
  },
  stored: ({ b }) => Number(sh(`aws --endpoint-url ${endpoint} s3api list-objects-v2 --bucket ${b} --query 'sum(Contents[].Size)' --output text`).stdout.trim()) || undefined,
  teardown: ({ b }) => sh(`aws --endpoint-url ${endpoint} s3 rb s3://${b} --force >/dev/null`),
});
/** A run whose command writes its output's size into the file `ctx.size`. */
const sized = (cmd) => ({
  cmd,
  setup: (i) => ({ size: join(work, `size-${i}-${Math.random().toString(36).slice(2)}`) }),
  stored: ({ size }) => Number(readFileSync(size, 'utf8').trim()) || undefined,
  teardown: ({ size }) => rmSync(size, { force: true }),
});

/**
 * The full-backup jobs for one endpoint (moto itself, or a shaped uplink in front of it): ours with
 * compression auto and off, `tar | gpg -c | aws s3 cp` with gpg's default compression and with
 * none, and restic (repository v2, compression auto) with its S3 backend, all through `url`.
 */
function backupJobs(dir, url) {
  const ours = (c) => inBucket(({ b }) => `${cli} backup '${dir}' --bucket ${b} --endpoint ${url} --compression ${c} --quiet >/dev/null`);
  const peer = (gpg) => inBucket(({ b }) => `tar -C '${dir}' -cf - . | ${gpg} | aws --endpoint-url ${url} s3 cp - s3://${b}/b.tar.gpg --storage-class DEEP_ARCHIVE --only-show-errors`);
  const resticJob = has('restic')
    ? inBucket(({ b }) => `restic -q -r s3:${url}/${b}/r backup --compression auto '${dir}'`, (b) => sh(`restic -q -r s3:${endpoint}/${b}/r init --repository-version 2`))
    : undefined;
  return [
    ['glacier-backup (compression auto)', ours('auto')],
    ['glacier-backup (compression off)', ours('off')],
    ['tar | gpg -c | aws s3 cp', peer(gpgz)],
    ['tar | gpg -c --compress-algo none | aws s3 cp', peer(gpgc)],
    ['restic backup (v2, compression auto)', resticJob],
  ];
}

/** Measures the jobs side by side and adds a row each; ours (the first two) against every peer. */
function addAll(task, named) {
  const results = measureSideBySide(...named.map(([, job]) => job));
  const peers = named.slice(2).map(([name], k) => [name, results[k + 2]]);
  named.forEach(([name], k) => add(task, name, results[k], k < 2 ? peers : []));
  return results;
}

const gpgc = 'gpg --batch --pinentry-mode loopback --passphrase pw --compress-algo none --cipher-algo AES256 -c';
/** gpg with its default compression (ZIP, level 6). */
const gpgz = 'gpg --batch --pinentry-mode loopback --passphrase pw --cipher-algo AES256 -c';
const rows = [];
const add = (task, tool, r, peers = []) => rows.push({ task, tool, r, peers });

// 1. pack + encrypt to a null sink
addAll('pack + encrypt → null', [
  ['glacier-backup (compression auto)', sized(({ size }) => `BENCH_COMPRESSION=auto ${packNull} '${ds}' > '${size}'`)],
  ['glacier-backup (compression off)', sized(({ size }) => `BENCH_COMPRESSION=off ${packNull} '${ds}' > '${size}'`)],
  ['tar | gpg -c', sized(({ size }) => `tar -C '${ds}' -cf - . | ${gpgz} | wc -c > '${size}'`)],
  ['tar | gpg -c --compress-algo none', sized(({ size }) => `tar -C '${ds}' -cf - . | ${gpgc} | wc -c > '${size}'`)],
]);

// 2. full backup to moto, then through shaped uplinks
const restic = has('restic');
addAll('full backup → moto', backupJobs(ds, endpoint));
for (const mbit of shapedRates) {
  const shaper = spawn('node', [join(root, 'bench', 'shaper.mjs'), String(port), String(mbit)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const shapedPort = await new Promise((resolve) => shaper.stdout.once('data', (d) => resolve(Number(String(d).trim()))));
  addAll(`full backup → moto over a ${mbit} Mbit/s uplink (${shapedScale} dataset)`, backupJobs(dsShaped, `http://127.0.0.1:${shapedPort}`));
  shaper.kill();
}

// 3. unchanged re-backup
const ub = bucket();
sh(`${cli} backup '${ds}' --bucket ${ub} --quiet`);
let rb;
if (restic) {
  rb = bucket();
  sh(`restic -q -r s3:${endpoint}/${rb}/r init && restic -q -r s3:${endpoint}/${rb}/r backup '${ds}'`);
}
const [unchanged, unchangedRestic] = measureSideBySide(
  { cmd: `${cli} backup '${ds}' --bucket ${ub} --quiet >/dev/null` },
  restic ? { cmd: `restic -q -r s3:${endpoint}/${rb}/r backup '${ds}'` } : undefined,
);
add('unchanged re-backup', 'glacier-backup', unchanged, [['restic backup (unchanged)', unchangedRestic]]);
add('unchanged re-backup', 'restic backup (unchanged)', unchangedRestic);

// 4. restore: download + decrypt + unpack (the archive already restored from Glacier)
const rsb = bucket();
const id = sh(`${cli} backup '${ds}' --bucket ${rsb} --quiet`).stdout.trim();
sh(`${cli} restore ${id} --bucket ${rsb} --days 1 && tar -C '${ds}' -cf - . | ${gpgc} | aws --endpoint-url ${endpoint} s3 cp - s3://${rsb}/peer.tar.gpg --only-show-errors`);
const into = (prefix) => (i) => {
  const d = join(work, `${prefix}${i}`);
  rmSync(d, { recursive: true, force: true });
  return { d };
};
const [restoreOurs, restorePeer] = measureSideBySide(
  { cmd: ({ d }) => `${cli} download ${id} '${d}' --bucket ${rsb} >/dev/null`, setup: into('r'), teardown: ({ d }) => rmSync(d, { recursive: true, force: true }) },
  { cmd: ({ d }) => `mkdir -p '${d}' && aws --endpoint-url ${endpoint} s3 cp s3://${rsb}/peer.tar.gpg - | gpg --batch --pinentry-mode loopback --passphrase pw -d 2>/dev/null | tar -C '${d}' -xf -`, setup: into('p'), teardown: ({ d }) => rmSync(d, { recursive: true, force: true }) },
);
add('restore (download + decrypt + unpack)', 'glacier-backup', restoreOurs, [['aws s3 cp | gpg -d | tar x', restorePeer]]);
add('restore (download + decrypt + unpack)', 'aws s3 cp | gpg -d | tar x', restorePeer);

// 5. peak memory on large inputs
if (large) {
  const big = join(data, 'one-4gib');
  if (!existsSync(join(big, 'file.bin'))) {
    mkdirSync(big, { recursive: true });
    sh(`head -c 4294967296 /dev/urandom > '${join(big, 'file.bin')}'`);
  }
  add('peak memory: one 4 GiB file', 'glacier-backup', measureSideBySide(inBucket(({ b }) => `${cli} backup '${big}' --bucket ${b} --quiet >/dev/null`))[0]);
  const many = join(data, 'files-200k');
  if (!existsSync(join(many, '.done'))) {
    sh(`python3 -c "
import os
for i in range(200000):
    d = os.path.join('${many}', '%03d' % (i // 1000)); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, 'f%06d.txt' % i), 'w').write('x' * (i % 200))
" && touch '${join(many, '.done')}'`);
  }
  add('peak memory: 200,000-file tree', 'glacier-backup', measureSideBySide(inBucket(({ b }) => `${cli} backup '${many}' --bucket ${b} --quiet --no-default-excludes >/dev/null`))[0]);
}

const mb = (bytes) => (bytes === undefined ? '' : `${(bytes / 1e6).toFixed(1)} MB`);
const fmt = (r) => (r.failed ? `failed: ${r.failed}` : `${r.wall.toFixed(2)} s | ${r.cpu.toFixed(2)} s | ${Math.round(r.rss)} MB | ${mb(r.stored)}`);
const ratio = (a, b) =>
  a.failed || b.failed ? 'n/a' : `${(a.wall / b.wall).toFixed(2)}× wall, ${(a.cpu / b.cpu).toFixed(2)}× CPU${a.stored && b.stored ? `, ${(a.stored / b.stored).toFixed(2)}× bytes` : ''}`;
const du = sh(`du -sh '${ds}' | cut -f1`).stdout.trim();
const files = sh(`find '${ds}' -type f | wc -l`).stdout.trim();
const duShaped = shapedRates.length ? sh(`du -sh '${dsShaped}' | cut -f1`).stdout.trim() : '';
let md = `# Benchmark results\n\nGenerated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB,
Node ${process.version}; dataset scale ${scale} (${du}, ${files} files)${shapedRates.length ? `, and scale ${shapedScale} (${duShaped}) through the shaped uplinks` : ''}; medians of ${runs} run(s); one moto server on loopback
for every tool. CPU is the client's user + system time; RSS is the client's peak resident memory
(for pipelines, the largest process); Stored is the bytes in the bucket (or written, for the null sink).
A shaped uplink is a token-bucket TCP proxy on loopback (bench/shaper.mjs) in front of moto that paces what
clients send (answers are not shaped).\n\n| Task | Tool | Wall | CPU | Peak RSS | Stored | glacier-backup vs peer |\n| --- | --- | --- | --- | --- | --- | --- |\n`;
const cell = (text) => text.replaceAll('|', '\\|');
for (const row of rows) {
  const vs = cell(row.peers.map(([name, r]) => `${ratio(row.r, r)} vs ${name}`).join('; '));
  md += `| ${row.task} | ${cell(row.tool)} | ${fmt(row.r).split(' | ').join(' | ')}${row.r.failed ? ' | | | ' : ''} | ${vs} |\n`;
}
writeFileSync(out, md + (process.env.BENCH_NOTES ? `\n${readFileSync(process.env.BENCH_NOTES, 'utf8')}` : ''));
console.log(md);
process.exit(0);
