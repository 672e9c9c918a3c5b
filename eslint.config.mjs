// Lint: typed rules for promises, and the rules that hold the shape (test/unit/lintRules.test.ts
// proves each one fires): src/core never imports vscode; only src/core/store/s3/ imports the AWS
// SDK; core/pack and core/crypto never import core/store; the front ends (src/cli, src/vscode)
// reach the engine only through core/jobs, core/model, core/config and core/errors (and the
// leaf helpers of core/util, which import nothing of the engine). For a given file the last matching
// block's no-restricted-imports wins (flat config does not merge rule options), so each block
// lists every restriction of the files it covers.
import tseslint from 'typescript-eslint';

const noVscode = { name: 'vscode', message: 'src/core must not import vscode: it runs in plain Node (CLI, tests).' };
const noAwsSdk = {
  regex: '^@aws-sdk/',
  message: 'only src/core/store/s3/ imports the AWS SDK: everything else reaches storage through ArchiveStore (src/core/store/archiveStore.ts).',
};
const noStore = {
  regex: '^(\\.\\./)+store(/|$)|/core/store(/|$)',
  message: 'core/pack and core/crypto must not import core/store: packing and encryption know nothing of where archives are kept.',
};

const onlyThroughJobs = {
  regex: '(^|/)core/(?!(jobs|model|config|errors|util)(/|$))',
  message:
    'src/cli and src/vscode reach the engine only through core/jobs, core/model, core/config and core/errors: add a job function (or move the type to core/model) instead of importing the layer below.',
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'bench/.data/**', '.test-tmp/**', '.e2e/**', 'test-artifacts/**'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'before', 'after'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The e2e fixture extension is plain CommonJS so it packages without a build.
    files: ['test/e2e/fixture/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noAwsSdk] }] },
  },
  {
    files: ['src/cli/**/*.ts', 'src/vscode/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [noAwsSdk, onlyThroughJobs] }] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode], patterns: [noAwsSdk] }] },
  },
  {
    files: ['src/core/pack/**/*.ts', 'src/core/crypto/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode], patterns: [noAwsSdk, noStore] }] },
  },
  {
    files: ['src/core/store/s3/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [noVscode] }] },
  },
);
