// `npm run lint`: eslint's and typescript-eslint's recommended rules (no type
// information, so it stays fast), with the few exceptions the code base needs.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', 'media/**', 'tools/**', 'out/**', '**/*.d.mts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Terminal and file-name sanitising matches control characters on purpose.
      'no-control-regex': 'off',
      // `catch {}` is how best-effort clean-up says "ignore".
      'no-empty': ['error', { allowEmptyCatch: true }],
      // Flags timers initialised before a try whose catch reads them.
      'no-useless-assignment': 'off',
      // Wrapping errors with a clearer message is common here; a cause is welcome but not required.
      'preserve-caught-error': 'off',
    },
  },
  {
    // The engine loads native modules lazily where a missing one must become an answer, not a crash.
    files: ['src/engine/engineWorker.ts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests build malformed inputs on purpose.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.cjs', 'bin/**/*.js', 'scripts/**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
