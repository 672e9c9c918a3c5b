// Bundles the CLI, the VS Code extension and the benchmark entry point with esbuild into dist/.
import { build } from 'esbuild';
import { chmod, readFile } from 'node:fs/promises';

const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  mainFields: ['module', 'main'],
  // Some dependencies ship ESM that calls createRequire(import.meta.url); give CJS a real URL.
  define: { PACKAGE_VERSION: JSON.stringify(pkg.version), 'import.meta.url': '__importMetaUrl' },
  banner: { js: "const __importMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
};

await build({ ...common, entryPoints: ['src/cli/main.ts'], outfile: 'dist/cli.js' });
await chmod('dist/cli.js', 0o755);
await build({ ...common, entryPoints: ['src/vscode/extension.ts'], outfile: 'dist/extension.js', external: ['vscode'] });
await build({ ...common, entryPoints: ['bench/pack-null.ts'], outfile: 'dist/bench-pack.js' });
await build({ ...common, entryPoints: ['bench/catalog-fill.ts'], outfile: 'dist/bench-catalog.js' });
