// Set-up for a fresh clone, run before `npm test` and `npm run demo`: installs npm packages when
// they are missing or stale, and checks the real tools the tests use (moto, gpg, GNU tar),
// installing Debian packages when running as root on Debian. Then the end-to-end tests' real
// VS Code and browser (scripts/e2e-setup.mjs; instant once installed).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { e2eSetup } from './e2e-setup.mjs';

const root = new URL('..', import.meta.url).pathname;
const lock = `${root}package-lock.json`;
const marker = `${root}node_modules/.package-lock.json`;
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  console.error('ensure-deps: installing npm packages (npm ci)…');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

const missing = [];
if (spawnSync('gpg', ['--version']).status !== 0) missing.push('gnupg');
if (spawnSync('tar', ['--version']).status !== 0) missing.push('tar');
if (missing.length) {
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    console.error(`ensure-deps: installing ${missing.join(' ')} with apt-get…`);
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  } else {
    console.error(`ensure-deps: please install: ${missing.join(' ')}`);
    process.exit(1);
  }
}
if (spawnSync('python3', ['-c', 'import moto.server']).status !== 0) {
  console.error('ensure-deps: the moto S3 emulator is needed: python3 -m pip install "moto[server]"');
  process.exit(1);
}

try {
  e2eSetup();
} catch (err) {
  console.error(`ensure-deps: end-to-end test set-up failed: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
}
