// `npm run bench`: the engine against peer tools, in one run, on one loopback moto server and
// one generated dataset; medians of BENCH_RUNS runs, the tools taking turns; writes a markdown
// table to bench/RESULTS.md.
// Env: BENCH_SCALE (dataset scale, 1 = ~700 MB), BENCH_RUNS (3), BENCH_LARGE (1: also the 4 GiB
// file and the 200,000-file tree), BENCH_OUT (output file).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const scale = Number(process.env.BENCH_SCALE ?? '1');
const runs = Number(process.env.BENCH_RUNS ?? '3');
const large = process.env.BENCH_LARGE !== undefined ? process.env.BENCH_LARGE === '1' : scale >= 1;
const out = process.env.BENCH_OUT ?? join(root, 'bench', 'RESULTS.md');
const data = join(root, 'bench', '.data');
const ds = join(data, `dataset-${scale}`);
const work = mkdtempSync(join(tmpdir(), 'gb-bench-'));
const cli = `node ${join(root, 'dist', 'cli.js')}`;
const packNull = `node ${join(root, 'dist', 'bench-pack.js')}`;

execFileSync('bash', [join(root, 'bench', 'make-dataset.sh'), ds, String(scale)], { stdio: 'inherit' });

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
  job.teardown?.(ctx);
  if (res.status !== 0) return { failed: (res.stderr || res.stdout).trim().split('\n').slice(-2).join(' ') };
  const [e, u, s, m] = readFileSync(t, 'utf8').trim().split('\n').pop().split(' ').map(Number);
  return { wall: e, cpu: u + s, rss: m / 1024 };
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
  return jobs.map((job, j) => (!job ? { failed: 'not installed' } : failed[j] ? { failed: failed[j] } : { wall: median(samples[j], 'wall'), cpu: median(samples[j], 'cpu'), rss: median(samples[j], 'rss') }));
}

/** A fresh bucket for each run, emptied and removed after it so that moto's memory stays flat. */
const inBucket = (cmd, init) => ({
  cmd,
  setup: () => {
    const b = bucket();
    init?.(b);
    return { b };
  },
  teardown: ({ b }) => sh(`aws --endpoint-url ${endpoint} s3 rb s3://${b} --force >/dev/null`),
});

const gpgc = 'gpg --batch --pinentry-mode loopback --passphrase pw --compress-algo none --cipher-algo AES256 -c';
const rows = [];
const add = (task, tool, r, peers = []) => rows.push({ task, tool, r, peers });

// 1. pack + encrypt to a null sink
const [nullOurs, nullGpg] = measureSideBySide({ cmd: `${packNull} '${ds}' >/dev/null` }, { cmd: `tar -C '${ds}' -cf - . | ${gpgc} >/dev/null` });
add('pack + encrypt → null', 'glacier-backup', nullOurs, [['tar | gpg -c', nullGpg]]);
add('pack + encrypt → null', 'tar | gpg -c', nullGpg);

// 2. full backup to moto
const restic = has('restic');
const [full, fullAws, fullRestic] = measureSideBySide(
  inBucket(({ b }) => `${cli} backup '${ds}' --bucket ${b} --quiet >/dev/null`),
  inBucket(({ b }) => `tar -C '${ds}' -cf - . | ${gpgc} | aws --endpoint-url ${endpoint} s3 cp - s3://${b}/b.tar.gpg --storage-class DEEP_ARCHIVE --only-show-errors`),
  restic ? inBucket(({ b }) => `restic -q -r s3:${endpoint}/${b}/r backup '${ds}'`, (b) => sh(`restic -q -r s3:${endpoint}/${b}/r init`)) : undefined,
);
add('full backup → moto', 'glacier-backup', full, [['tar | gpg | aws s3 cp', fullAws], ['restic backup', fullRestic]]);
add('full backup → moto', 'tar | gpg | aws s3 cp', fullAws);
add('full backup → moto', 'restic backup', fullRestic);

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

const fmt = (r) => (r.failed ? `failed: ${r.failed}` : `${r.wall.toFixed(2)} s | ${r.cpu.toFixed(2)} s | ${Math.round(r.rss)} MB`);
const ratio = (a, b) => (a.failed || b.failed ? 'n/a' : `${(a.wall / b.wall).toFixed(2)}× wall, ${(a.cpu / b.cpu).toFixed(2)}× CPU`);
const du = sh(`du -sh '${ds}' | cut -f1`).stdout.trim();
const files = sh(`find '${ds}' -type f | wc -l`).stdout.trim();
let md = `# Benchmark results\n\nGenerated by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB,
Node ${process.version}; dataset scale ${scale} (${du}, ${files} files); medians of ${runs} run(s); one moto server on loopback
for every tool. CPU is the client's user + system time; RSS is the client's peak resident memory
(for pipelines, the largest process).\n\n| Task | Tool | Wall | CPU | Peak RSS | glacier-backup vs peer |\n| --- | --- | --- | --- | --- | --- |\n`;
const cell = (text) => text.replaceAll('|', '\\|');
for (const row of rows) {
  const vs = cell(row.peers.map(([name, r]) => `${ratio(row.r, r)} vs ${name}`).join('; '));
  md += `| ${row.task} | ${cell(row.tool)} | ${fmt(row.r).split(' | ').join(' | ')}${row.r.failed ? ' | | ' : ''} | ${vs} |\n`;
}
writeFileSync(out, md + (process.env.BENCH_NOTES ? `\n${readFileSync(process.env.BENCH_NOTES, 'utf8')}` : ''));
console.log(md);
process.exit(0);
