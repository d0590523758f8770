// Lint: typescript-eslint's recommended rules plus the one-way import direction of DESIGN.md §3:
// scenarios → harness → {host-side, device-side, simulator}; the simulator may import device-side and
// host-side (types and pure codecs); device-side and host-side never import the simulator or harness,
// except the two leaf modules harness/errors.ts and harness/clock.ts (they import nothing else).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Any path into harness/ other than the two leaf modules.
const LEAF_EXCEPT = '(^|/)harness(/(?!(errors|clock)\\.js$)|$)';

const noImport = (...groups) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: groups.map(([regex, message]) => ({ regex, message })),
    },
  ],
});

export default tseslint.config(
  { ignores: ['node_modules/**', 'reports/**', '.ci/cache/**', 'docs/**'] },
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
  {
    files: ['host-side/**/*.ts'],
    rules: noImport(
      ['(^|/)simulator(/|$)', 'host-side never imports the simulator (DESIGN.md §3).'],
      [LEAF_EXCEPT, 'host-side imports only the leaf modules harness/errors.js and harness/clock.js (DESIGN.md §3).'],
      ['(^|/)scenarios(/|$)', 'nothing imports scenarios.'],
      [
        '(^|/)device-side/(?!functions/test-protocol\\.js$)',
        'host-side may import from device-side only the wire contract device-side/functions/test-protocol.js.',
      ],
    ),
  },
  {
    files: ['device-side/**/*.ts'],
    rules: noImport(
      ['(^|/)simulator(/|$)', 'device-side never imports the simulator (DESIGN.md §3).'],
      [LEAF_EXCEPT, 'device-side imports only the leaf modules harness/errors.js and harness/clock.js (DESIGN.md §3).'],
      ['(^|/)scenarios(/|$)', 'nothing imports scenarios.'],
      ['(^|/)host-side(/|$)', 'device-side never imports host-side.'],
    ),
  },
  {
    files: ['simulator/**/*.ts'],
    rules: noImport(
      [LEAF_EXCEPT, 'the simulator imports only the leaf modules harness/errors.js and harness/clock.js.'],
      ['(^|/)scenarios(/|$)', 'nothing imports scenarios.'],
      ['(^|/)(device-side/win32|host-side/node-usb)(/|$)', 'the simulator never imports a real backend.'],
    ),
  },
  {
    files: ['scenarios/**/*.ts'],
    rules: noImport([
      '(^|/)(device-side|host-side|simulator|harness)/(?!index\\.js$)',
      'scenarios import only the public API of each folder (its index.js), STYLE.md §3.',
    ]),
  },
  {
    files: ['harness/errors.ts', 'harness/clock.ts'],
    rules: noImport(['^(?!\\./errors\\.js$)', 'harness/errors.ts and harness/clock.ts are leaf modules: they import nothing else.']),
  },
  {
    files: ['harness/**/*.ts'],
    ignores: ['harness/errors.ts', 'harness/clock.ts'],
    rules: noImport(['(^|/)scenarios(/|$)', 'nothing imports scenarios.']),
  },
);
