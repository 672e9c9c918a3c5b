/**
 * The rules that hold the shape (eslint.config.mjs) bite: each import a layer may not make is
 * reported by `no-restricted-imports` with the real config, and the imports it may make are not.
 * The snippets are linted as if they were the named (existing) files.
 */
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';

const root = path.resolve(import.meta.dirname, '../..');
let eslint: ESLint;

/** The no-restricted-imports messages for `import '<source>';` in `file`. */
async function restricted(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`import '${source}';\n`, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

const cases: { file: string; source: string; fires: RegExp | false }[] = [
  // Only the S3 store's folder imports the AWS SDK.
  { file: 'src/core/jobs/check.ts', source: '@aws-sdk/client-s3', fires: /only src\/core\/store\/s3\/ imports the AWS SDK/ },
  { file: 'src/core/store/archiveStore.ts', source: '@aws-sdk/client-s3', fires: /only src\/core\/store\/s3\// },
  { file: 'src/core/pack/walk.ts', source: '@aws-sdk/lib-storage', fires: /only src\/core\/store\/s3\// },
  { file: 'src/cli/archiveCommands.ts', source: '@aws-sdk/client-s3', fires: /only src\/core\/store\/s3\// },
  { file: 'src/vscode/connection.ts', source: '@aws-sdk/client-s3', fires: /only src\/core\/store\/s3\// },
  { file: 'src/core/store/s3/client.ts', source: '@aws-sdk/client-s3', fires: false },
  // Packing and encryption never reach for the store.
  { file: 'src/core/pack/walk.ts', source: '../store/archiveStore', fires: /core\/pack and core\/crypto must not import core\/store/ },
  { file: 'src/core/crypto/seipd.ts', source: '../store/keys', fires: /must not import core\/store/ },
  { file: 'src/core/pack/walk.ts', source: '../../core/store/s3/client', fires: /must not import core\/store/ },
  { file: 'src/core/pack/walk.ts', source: '../model/entry', fires: false },
  { file: 'src/core/jobs/check.ts', source: '../model/keys', fires: false },
  // Front ends reach the engine only through jobs, model, config and errors.
  { file: 'src/vscode/connection.ts', source: '../core/store/archiveStore', fires: /src\/cli and src\/vscode reach the engine only through core\/jobs/ },
  { file: 'src/vscode/commands/checkBucketFlow.ts', source: '../../core/store/s3/bucketReport', fires: /only through core\/jobs/ },
  { file: 'src/cli/archiveCommands.ts', source: '../core/catalog/catalog', fires: /only through core\/jobs/ },
  { file: 'src/cli/context.ts', source: '../core/crypto/openpgp', fires: /only through core\/jobs/ },
  { file: 'src/vscode/viewModel.ts', source: '../core/pack/rawNames', fires: /only through core\/jobs/ },
  { file: 'src/cli/main.ts', source: '../core/jobs/openStore', fires: false },
  { file: 'src/vscode/commands/setUpCheck.ts', source: '../../core/jobs/storeCheck', fires: false },
  { file: 'src/vscode/viewModel.ts', source: '../core/model/rawNames', fires: false },
  { file: 'src/cli/options.ts', source: '../core/config', fires: false },
  { file: 'src/vscode/settings.ts', source: '../core/errors', fires: false },
  { file: 'src/cli/main.ts', source: '../core/util/printable', fires: false },
  // The engine never imports vscode, in any of its folders.
  { file: 'src/core/jobs/check.ts', source: 'vscode', fires: /src\/core must not import vscode/ },
  { file: 'src/core/pack/walk.ts', source: 'vscode', fires: /src\/core must not import vscode/ },
  { file: 'src/core/store/s3/client.ts', source: 'vscode', fires: /src\/core must not import vscode/ },
  { file: 'src/vscode/connection.ts', source: 'vscode', fires: false },
];

describe('lint rules that hold the layers apart', () => {
  before(() => {
    eslint = new ESLint({ cwd: root });
  });

  for (const c of cases) {
    it(`${c.fires ? 'reports' : 'allows'} ${c.source} in ${c.file}`, async () => {
      const messages = await restricted(c.file, c.source);
      if (c.fires === false) {
        assert.deepEqual(messages, []);
      } else {
        assert.equal(messages.length, 1, `one report, got ${JSON.stringify(messages)}`);
        assert.match(messages[0]!, c.fires);
      }
    });
  }
});
