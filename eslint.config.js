// ESLint over the whole tree (npm run lint; npm run fix applies the automatic fixes): typescript-eslint's
// strict, type-aware rules (each file checked against its nearest tsconfig.json through the project
// service), plus the tree's one import-specifier style (scripts/eslint/import-specifiers.js).
import js from '@eslint/js';
import globals from 'globals';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';
import importSpecifiers from './scripts/eslint/import-specifiers.js';

export default defineConfig(
  {
    // Build output, generated code, vendored reports; everything else is linted.
    ignores: ['**/dist/', '**/build/', 'packages/db/src/generated/', 'reports/', 'bench/results/', '.data/', '.gpu/', '.whl/'],
  },
  js.configs.recommended,
  tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { mwt: importSpecifiers },
    rules: {
      'mwt/relative-extension': 'error',
      'mwt/workspace-by-name': 'error',
      // node:test's describe/it/test return promises that the runner itself awaits (typescript-eslint's
      // documented exception for node:test); every other promise must be awaited, returned or voided.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      // Numbers in messages (`epoch ${epoch}`) are how the tree writes them and print as expected;
      // nullish values, objects, any and unknown in a template are still errors.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // `(x) => resolve(x)` shorthands are how callbacks are written here. (Not ignoreVoidOperator: its fix,
      // `return void f()`, is what no-meaningless-void-operator undoes.)
      '@typescript-eslint/no-confusing-void-expression': ['error', { ignoreArrowShorthand: true }],
      // A leading underscore marks what is deliberately unused (a destructured field left out of a
      // copy, a callback's parameter kept for its position).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Off: Fastify plugins and hooks are async functions by contract (FastifyPluginAsync), with or
      // without an await inside; a promise left unhandled is still caught by no-floating-promises and
      // no-misused-promises.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The dashboard runs in the browser.
    files: ['apps/ui/web/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // Plain JavaScript (this file, the native addon's loader, build scripts): no types to check against.
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
