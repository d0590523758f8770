// Lint: typescript-eslint's recommended rules plus the import rule of docs/architecture.md:
//   1. import only downward: core ← {device-side, host-side} ← simulator ← harness ← scenarios
//      (bench/ and .ci/ sit on top and may use every floor);
//   2. import another folder only through its index.ts (a folder's index.ts is its public API); files in
//      the importer's own folder or an ancestor folder may be imported directly.
// The folder graph must also stay acyclic and files small: `npm run lint` runs .ci/lint/house-rules.ts too.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** A relative path that enters a folder other than through its index.js. */
const DEEP = '^(?:\\./|(?:\\.\\./)+)(?!\\.\\.?/)[^/]+/(?!index\\.js$)(?!.*\\.contract\\.js$)';
const INDEX_RULE_LEVEL = 'error';
/**
 * For the top floors (bench/, .ci/): also a harness sub-API's index.js (harness/world, harness/lab, …).
 * harness/index.ts is the scenarios' API and loads vitest's fixtures, which tools outside a vitest run cannot.
 */
const DEEP_TOP = '^(?:\\./|(?:\\.\\./)+)(?!\\.\\.?/)(?!harness/[^/]+/index\\.js$)[^/]+/(?!index\\.js$)(?!.*\\.contract\\.js$)';
/** A path into one of the named top-level folders. */
const into = (...folders) => `(^|/)(${folders.join('|')})(/|$)`;

// The floor rule uses ESLint's no-restricted-imports and the index rule typescript-eslint's copy of it, so that
// each can be reported on its own.
const rules = (floor, forbidden, deep = DEEP) => ({
  'no-restricted-imports':
    forbidden.length === 0
      ? 'off'
      : ['error', { patterns: [{ regex: into(...forbidden), message: `${floor} may not import ${forbidden.join(', ')}: imports only run downward (docs/architecture.md).` }] }],
  '@typescript-eslint/no-restricted-imports': [
    INDEX_RULE_LEVEL,
    { patterns: [{ regex: deep, message: 'import another folder only through its index.js (docs/architecture.md "Import rule").' }] },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'reports/**', '.ci/cache/**', 'docs/**', 'dist/**'] },
  js.configs.recommended,
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: "ImportDeclaration[source.value='koffi']", message: 'koffi loads lazily: await import(\'koffi\') inside device-side/win32/bindings.ts only.' },
        { selector: "ImportDeclaration[source.value='usb'][importKind!='type']", message: "usb loads lazily: await import('usb') inside host-side/node-usb only." },
      ],
    },
  },
  { files: ['core/**/*.ts'], rules: rules('core', ['device-side', 'host-side', 'simulator', 'harness', 'scenarios', 'bench']) },
  { files: ['device-side/**/*.ts'], rules: rules('device-side', ['host-side', 'simulator', 'harness', 'scenarios', 'bench']) },
  { files: ['host-side/**/*.ts'], rules: rules('host-side', ['device-side', 'simulator', 'harness', 'scenarios', 'bench']) },
  { files: ['simulator/**/*.ts'], rules: rules('simulator', ['harness', 'scenarios', 'bench', 'device-side/win32', 'host-side/node-usb']) },
  { files: ['harness/**/*.ts'], rules: rules('harness', ['scenarios', 'bench']) },
  { files: ['scenarios/**/*.ts'], rules: rules('scenarios', ['simulator', 'bench']) },
  { files: ['bench/**/*.ts', '.ci/**/*.ts', '*.ts'], rules: rules('bench and .ci', ['scenarios'], DEEP_TOP) },
);
